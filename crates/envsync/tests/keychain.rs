//! Identities in a real OS keychain: gnome-keyring's Secret Service on a private D-Bus
//! session bus (`dbus-run-session`), then moved to a machine without one.

mod support;

use std::process::Command;

use support::{CONFIG, Team, Teammate};

#[test]
fn the_identity_lives_in_the_keychain_and_moves_between_machines() {
    let team = Team::new();
    let home = team.root.path().join("keychain-home");
    let workspace = team.root.path().join("keychain-clone");
    let runtime = team.root.path().join("runtime");
    for dir in [
        home.join(".cache"),
        home.join(".local/share/keyrings"),
        workspace.clone(),
        runtime.clone(),
    ] {
        std::fs::create_dir_all(dir).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(
        workspace.join("envsync.toml"),
        CONFIG.replace("../remote", team.remote.to_str().unwrap()),
    )
    .unwrap();
    std::fs::write(workspace.join(".env"), "KEYCHAIN_TEST=value-1\n").unwrap();
    let script = r#"set -e
echo -n unlock | gnome-keyring-daemon --daemonize --login >/dev/null 2>&1
gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
"$ENVSYNC" keygen --name keychain-user
test ! -e "$XDG_CONFIG_HOME/envsync/identity.txt"
test -e "$XDG_CONFIG_HOME/envsync/identity.keychain"
"$ENVSYNC" whoami > whoami.txt
"$ENVSYNC" push -m "from the keychain"
"$ENVSYNC" identity export --output exported.txt
"#;
    let output = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .current_dir(&workspace)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("ENVSYNC", env!("CARGO_BIN_EXE_envsync"))
        .output()
        .expect("dbus-run-session (dbus-daemon) and gnome-keyring are installed");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let member_key = std::fs::read_to_string(workspace.join("whoami.txt"))
        .unwrap()
        .trim()
        .to_owned();
    let exported = std::fs::read_to_string(workspace.join("exported.txt")).unwrap();
    assert!(exported.contains("AGE-SECRET-KEY-1"));
    assert!(
        !home.join(".config/envsync/identity.txt").exists(),
        "no plaintext identity file"
    );

    let outside = Teammate {
        name: "keychain-user".into(),
        home: home.clone(),
        workspace: workspace.clone(),
    };
    let locked = outside.run(&["whoami"]).code(5);
    assert!(locked.stderr.contains("keychain"), "{}", locked.stderr);

    // Another machine, without a keychain: import the exported identity into a file.
    let laptop = team.member("laptop");
    std::fs::remove_file(laptop.identity_file()).unwrap();
    laptop
        .run(&[
            "identity",
            "import",
            workspace.join("exported.txt").to_str().unwrap(),
        ])
        .ok();
    assert_eq!(laptop.member_key(), member_key);
    laptop.run(&["pull"]).ok();
    assert_eq!(laptop.read_env(".env"), "KEYCHAIN_TEST=value-1\n");
    laptop
        .run(&[
            "identity",
            "import",
            workspace.join("exported.txt").to_str().unwrap(),
        ])
        .code(2);
}
