//! Teammates for integration tests: each has their own HOME (identity) and their own clone
//! of the workspace; all share one remote folder. Every command runs the real binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Team {
    pub root: tempfile::TempDir,
    pub remote: PathBuf,
}

pub struct Teammate {
    pub name: String,
    pub home: PathBuf,
    pub workspace: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code, expected,
            "expected exit {expected}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.stdout))
    }
}

pub const CONFIG: &str = r#"remote = "../remote"

[projects.app]
default_environment = "development"

[projects.app.environments]
development = ".env"
staging = ".env.staging"
"#;

impl Team {
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let remote = root.path().join("remote");
        std::fs::create_dir_all(&remote).unwrap();
        Self { root, remote }
    }

    /// A teammate with a fresh identity and a clone of the workspace (envsync.toml only,
    /// as if cloned from git).
    pub fn member(&self, name: &str) -> Teammate {
        let home = self.root.path().join("homes").join(name);
        let workspace = self.root.path().join(format!("clone-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(
            workspace.join("envsync.toml"),
            CONFIG.replace("../remote", self.remote.to_str().unwrap()),
        )
        .unwrap();
        let mate = Teammate {
            name: name.to_owned(),
            home,
            workspace,
        };
        mate.run(&["keygen", "--name", name]).ok();
        mate
    }

    /// Every file under the remote folder, with its bytes.
    pub fn remote_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        collect(&self.remote, &mut files);
        files
    }

    pub fn remote_path(&self, relative: &str) -> PathBuf {
        self.remote.join(relative)
    }
}

fn collect(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
}

impl Teammate {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_envsync"));
        command
            .args(args)
            .current_dir(&self.workspace)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"));
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    pub fn write_env(&self, file: &str, text: &str) {
        std::fs::write(self.workspace.join(file), text).unwrap();
    }

    pub fn read_env(&self, file: &str) -> String {
        std::fs::read_to_string(self.workspace.join(file)).unwrap()
    }

    pub fn identity_file(&self) -> PathBuf {
        self.home.join(".config/envsync/identity.txt")
    }

    pub fn fingerprint(&self) -> String {
        self.run(&["whoami", "--json"]).ok().json()["fingerprint"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn member_key(&self) -> String {
        self.run(&["whoami"]).ok().stdout.trim().to_owned()
    }

    /// `status --json` badge of one environment.
    pub fn badge(&self, environment: &str) -> String {
        let status = self.run(&["status", "--json"]).ok().json();
        status["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["environment"] == environment)
            .map(|row| row["badge"].as_str().unwrap().to_owned())
            .unwrap()
    }
}

/// Alice founds the project with a first version; Bob asks for access and Alice accepts.
pub fn alice_and_bob(team: &Team) -> (Teammate, Teammate) {
    let alice = team.member("alice");
    let bob = team.member("bob");
    alice.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=alpha-123\n",
    );
    alice.run(&["push", "-m", "first"]).ok();
    bob.run(&["pull"]).code(5);
    alice.run(&["members", "accept", &bob.fingerprint()]).ok();
    bob.run(&["pull"]).ok();
    (alice, bob)
}
