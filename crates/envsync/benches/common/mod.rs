//! What every end-to-end bench needs: a teammate's home, workspace and folder remote, and
//! the real binary run in them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `home`, `ws` and `remote` under a fresh temporary directory (kept alive by the caller).
pub fn layout(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (home, workspace, remote) = (root.join("home"), root.join("ws"), root.join("remote"));
    for dir in [&home, &workspace, &remote] {
        std::fs::create_dir_all(dir).unwrap();
    }
    (home, workspace, remote)
}

/// Runs `envsync ARGS…` as the bench user, with an identity file instead of the keychain.
pub fn command(home: &Path, workspace: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_envsync"));
    command
        .args(args)
        .current_dir(workspace)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("ENVSYNC_NAME", "bench")
        .env("ENVSYNC_KEYCHAIN", "off");
    command
}

/// [`command`], which must succeed.
pub fn envsync(home: &Path, workspace: &Path, args: &[&str]) -> Output {
    let output = command(home, workspace, args)
        .output()
        .expect("envsync runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
