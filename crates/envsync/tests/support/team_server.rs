//! Teammates on a real envsync server, and a running `envsync watch --json` to listen to.
//! `alice_invites_bob` is the joining ceremony every server test starts from.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::server::Server;
use super::{Run, Team, Teammate};

pub const ALICE_ENV: &str = "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=alpha-123\n";

/// The `esi_…` code in a command's output.
pub fn code_in(run: &Run) -> String {
    run.stdout
        .split(|c: char| c.is_whitespace() || c == '"' || c == '`')
        .find(|word| word.starts_with("esi_"))
        .unwrap_or_else(|| panic!("no invite code in: {}", run.stdout))
        .to_owned()
}

/// `name` joins `server` with its setup code and so becomes the server's owner.
pub fn server_owner(team: &Team, server: &Server, name: &str) -> Teammate {
    let owner = team.member_of(name, &server.url);
    owner
        .run(&["join", &server.url, server.setup_code.as_deref().unwrap()])
        .ok();
    owner
}

/// Alice joins `server` as its owner and publishes her `.env`; Bob joins by her invite
/// (with `role`) through `bob_server` (the same server, or another replica), and Alice
/// accepts him. The setup code is the newest one printed: `bob_server`'s.
pub fn alice_invites_bob(
    team: &Team,
    server: &Server,
    bob_server: &Server,
    role: &str,
) -> (Teammate, Teammate) {
    let alice = team.member_of("alice", &server.url);
    let bob = team.member_of("bob", &bob_server.url);
    let setup_code = bob_server.setup_code.as_deref().unwrap();
    alice.run(&["join", &server.url, setup_code]).ok();
    alice.write_env(".env", ALICE_ENV);
    alice.run(&["push", "-m", "first"]).ok();
    let invite = alice.run(&["invite", "--role", role]).ok();
    bob.run(&["join", &bob_server.url, &code_in(&invite)]).ok();
    // Bob's key is not trusted yet: he cannot read, and Alice sees him waiting.
    bob.run(&["pull"]).code(5);
    let status = alice.run(&["status"]).ok();
    assert!(
        status.stdout.contains("1 member waiting for access: bob"),
        "{}{}",
        status.stdout,
        status.stderr
    );
    alice
        .run(&["members", "accept", &bob.fingerprint(), "--role", role])
        .ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), ALICE_ENV);
    (alice, bob)
}

impl Teammate {
    /// Where `envsync join` and `envsync login` keep this teammate's server tokens.
    pub fn credentials_file(&self) -> std::path::PathBuf {
        self.home.join(".config/envsync/credentials.toml")
    }

    /// The server token stored in [`Teammate::credentials_file`].
    pub fn server_token(&self) -> String {
        std::fs::read_to_string(self.credentials_file())
            .unwrap()
            .split('"')
            .find(|word| word.starts_with("esk_"))
            .expect("a token in credentials.toml")
            .to_owned()
    }

    /// Sets `auto_refresh_seconds` in this clone's envsync.toml: 0 turns polling off, so
    /// that only live events can explain an update.
    pub fn set_auto_refresh(&self, seconds: u64) {
        let path = self.workspace.join("envsync.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("auto_refresh_seconds = {seconds}\n{config}")).unwrap();
    }
}

/// A running `envsync watch`. Its stdout lines arrive parsed with `--json`, else as JSON
/// strings, and so do its stderr lines, so that a test of the human output waits the same
/// way.
pub struct Watcher {
    child: Child,
    lines: mpsc::Receiver<serde_json::Value>,
    backlog: RefCell<VecDeque<serde_json::Value>>,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Watcher {
    pub fn start(teammate: &Teammate, json: bool, env: &[(&str, &str)]) -> Self {
        let args: &[&str] = if json {
            &["watch", "--json"]
        } else {
            &["watch"]
        };
        Self::start_with(teammate, args, env)
    }

    /// `envsync ARGS` (a watch, with `--json` for events), e.g. with `--report`.
    pub fn start_with(teammate: &Teammate, args: &[&str], env: &[(&str, &str)]) -> Self {
        let json = args.contains(&"--json");
        let mut child = teammate
            .command(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        let errors = sender.clone();
        let stdout = std::thread::spawn(move || {
            let mut human = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let event = if json {
                    serde_json::from_str(&line).unwrap_or_else(|error| {
                        panic!("not one JSON event per line ({error}): {line}")
                    })
                } else {
                    human.push_str(&line);
                    human.push('\n');
                    serde_json::Value::String(line)
                };
                let _ = sender.send(event);
            }
            human
        });
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                let _ = errors.send(serde_json::Value::String(line));
            }
            all
        });
        Self {
            child,
            lines,
            backlog: RefCell::default(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    /// Forgets every event received so far, taken or not, so the next [`Self::wait_for`]
    /// answers only to what the watcher says from now on.
    #[allow(dead_code)] // Not every test file that includes this module uses it.
    pub fn forget_seen(&self) {
        let mut backlog = self.backlog.borrow_mut();
        backlog.clear();
        backlog.extend(self.lines.try_iter().filter(|event| !event.is_object()));
    }

    /// The first event not taken yet that satisfies `wanted`, waiting up to `within` for it.
    /// Events passed over stay for later calls, since the order of, say, a `connected` line
    /// and the first `status` line is not fixed.
    #[track_caller]
    pub fn wait_for(
        &self,
        what: &str,
        within: Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let mut backlog = self.backlog.borrow_mut();
        if let Some(index) = backlog.iter().position(&wanted) {
            return backlog.remove(index).unwrap();
        }
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let received = self.lines.recv_timeout(left);
            if let Ok(event) = &received
                && event.is_object()
            {
                super::schema::check(event, Some("WatchEvent"));
            }
            match received {
                Ok(event) if wanted(&event) => return event,
                Ok(event) => backlog.push_back(event),
                Err(_) => break,
            }
        }
        panic!("the watcher never reported {what} within {within:?}; it said: {backlog:?}");
    }

    /// Waits for the watcher to exit on its own; its exit code and all of its stderr.
    pub fn wait_exit(mut self, within: Duration) -> (i32, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let stderr = self.stderr.take().unwrap().join().unwrap();
                return (status.code().unwrap_or(-1), stderr);
            }
            assert!(
                Instant::now() < deadline,
                "the watcher is still running after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Watcher {
    /// Stops the watcher; all it said to a person: its human stdout, then its stderr.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stdout = self.stdout.take().unwrap().join().unwrap();
        stdout + &self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private certificate authority and a server certificate for 127.0.0.1 signed by it,
/// made with `openssl` in `directory`: `(ca.pem, cert.pem, key.pem)`.
pub fn private_ca(
    directory: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &str| {
        let made = std::process::Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(directory)
            .output()
            .expect("run openssl (scripts/test.sh installs it)");
        assert!(
            made.status.success(),
            "openssl {args}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(&format!(
        "req -x509 {ec} -days 2 -subj /CN=envsync-test-CA -keyout ca.key -out ca.pem"
    ));
    openssl(&format!(
        "req {ec} -subj /CN=127.0.0.1 -keyout key.pem -out server.csr"
    ));
    std::fs::write(
        directory.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
         -extfile server.ext -out cert.pem",
    );
    (
        directory.join("ca.pem"),
        directory.join("cert.pem"),
        directory.join("key.pem"),
    )
}
