//! Teammates for integration tests: each has their own HOME (identity) and their own clone
//! of the workspace; all share one remote folder. Every command runs the real binary.

#![allow(dead_code)]

pub mod bucket;
pub mod database;
pub mod git;
pub mod protocol;
pub mod remotes;
pub mod schema;
pub mod server;
pub mod stores;
pub mod team_server;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

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
    pub fn from(output: Output) -> Self {
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

    /// A `--json` document, checked against the committed schema: the definition `name`.
    #[track_caller]
    pub fn document(&self, name: &str) -> serde_json::Value {
        let document = self.json();
        schema::check(&document, Some(name));
        document
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
        self.member_of(name, self.remote.to_str().unwrap())
    }

    /// Like `member`, with `remote` (a folder path or a bucket URL) in envsync.toml.
    pub fn member_of(&self, name: &str, remote: &str) -> Teammate {
        let home = self.root.path().join("homes").join(name);
        let workspace = self.root.path().join(format!("clone-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(
            workspace.join("envsync.toml"),
            CONFIG.replace("../remote", remote),
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
        self.program(env!("CARGO_BIN_EXE_envsync"), args)
    }

    /// Runs another program (e.g. `script`) in this teammate's environment.
    pub fn program(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
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

    /// `run` with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        Run::from(command.output().unwrap())
    }

    /// `run` with `input` on standard input.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        Run::from(child.wait_with_output().unwrap())
    }

    pub fn write_env(&self, file: &str, text: &str) {
        std::fs::write(self.workspace.join(file), text).unwrap();
    }

    pub fn read_env(&self, file: &str) -> String {
        std::fs::read_to_string(self.workspace.join(file)).unwrap()
    }

    /// `file` decrypted by the real `age` CLI with this teammate's identity; panics with
    /// age's own message when it cannot.
    pub fn age_decrypt(&self, file: &Path) -> String {
        let output = Command::new("age")
            .args(["-d", "-i"])
            .arg(self.identity_file())
            .arg(file)
            .output()
            .expect("the age CLI is installed");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("the plaintext is UTF-8")
    }

    pub fn identity_file(&self) -> PathBuf {
        self.home.join(".config/envsync/identity.txt")
    }

    pub fn fingerprint(&self) -> String {
        self.run(&["whoami", "--json"])
            .ok()
            .document("IdentityInfo")["fingerprint"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn member_key(&self) -> String {
        self.run(&["whoami"]).ok().stdout.trim().to_owned()
    }

    /// `status --json` row of one environment.
    pub fn status_row(&self, environment: &str) -> serde_json::Value {
        let status = self.run(&["status", "--json"]).ok().document("Status");
        status["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["environment"] == environment)
            .cloned()
            .unwrap_or_else(|| panic!("no status row for {environment}: {status}"))
    }

    /// `status --json` remote version of one environment (0: none yet).
    pub fn head_version(&self, environment: &str) -> u64 {
        self.status_row(environment)["remote_version"]
            .as_u64()
            .unwrap_or_default()
    }

    /// `status --json` badge of one environment.
    pub fn badge(&self, environment: &str) -> String {
        self.status_row(environment)["badge"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// How many numbered records (`00000001.json`) a folder remote's directory holds, not
/// counting the temporary files a write makes beside them first.
pub fn numbered_records(directory: &Path) -> usize {
    let is_record = |name: &str| {
        name.strip_suffix(".json")
            .is_some_and(|number| number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()))
    };
    std::fs::read_dir(directory).map_or(0, |entries| {
        entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| is_record(name))
            .count()
    })
}

/// Spawns `command` and polls until `reached` holds, to act on a process at one moment of
/// its work (kill it, stop it). `None` when it exited first: the moment never came.
pub fn spawn_until(command: &mut Command, reached: impl Fn() -> bool) -> Option<Child> {
    let mut child = command.spawn().unwrap();
    while !reached() {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
    }
    Some(child)
}

/// Sends `child` a signal (`-TERM`, `-STOP`, `-CONT`) with the real `kill` command;
/// whether it was sent.
pub fn signal(child: &Child, which: &str) -> bool {
    Command::new("kill")
        .args([which, &child.id().to_string()])
        .status()
        .unwrap()
        .success()
}

/// The ciphertext digest a signed version record names.
pub fn ciphertext_sha256(record: &[u8]) -> String {
    let record: serde_json::Value = serde_json::from_slice(record).unwrap();
    record["body"]["ciphertext_sha256"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The S3 server the bucket tests talk to: moto's S3 implementation in a real server
/// process on a free loopback port, speaking the S3 protocol over HTTP.
///
/// moto checks `If-None-Match: *` and then writes in two steps, so two requests arriving
/// at once could both pass the check; real stores make the pair atomic. The launcher
/// therefore handles one request at a time. It also counts requests (served at
/// `/_envsync/requests`) and, in `IgnoresConditionalWrites` mode, strips `If-None-Match` to
/// play a store that silently overwrites. It exits when the test process closes its stdin,
/// so no server outlives the tests.
const S3_LAUNCHER: &str = r#"
import json, os, sys, threading
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

mode = sys.argv[1]
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
counts = {}
actions = {}

def serve(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if path == "/_envsync/requests":
        body = json.dumps(counts).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/_envsync/actions":
        body = json.dumps(actions).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if mode == "ignores-conditional-writes":
        environ.pop("HTTP_IF_NONE_MATCH", None)
    with lock:
        counts[method] = counts.get(method, 0) + 1
        action = environ.get("HTTP_X_AMZ_TARGET")
        if action:
            actions[action] = actions.get(action, 0) + 1
        return list(app(environ, start_response))

server = make_server("127.0.0.1", 0, serve, threaded=True)
print(server.server_port, flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
os._exit(0)
"#;

/// Bucket administration for the tests (create, list with bytes, overwrite), through boto3,
/// which moto brings along. Object bytes travel as hex.
const S3_ADMIN: &str = r#"
import json, sys, boto3
endpoint, command, bucket = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
if command == "create":
    s3.create_bucket(Bucket=bucket)
elif command == "dump":
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out.append([item["Key"], s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().hex()])
    print(json.dumps(out))
elif command == "put":
    s3.put_object(Bucket=bucket, Key=sys.argv[4], Body=bytes.fromhex(sys.stdin.read().strip()))
elif command == "delete":
    s3.delete_object(Bucket=bucket, Key=sys.argv[4])
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Mode {
    Normal,
    IgnoresConditionalWrites,
}

pub struct S3Server {
    pub endpoint: String,
    port: u16,
    child: std::sync::Mutex<std::process::Child>,
}

impl S3Server {
    /// One server for the whole test binary; each test uses its own bucket.
    pub fn shared() -> &'static S3Server {
        static SERVER: std::sync::OnceLock<S3Server> = std::sync::OnceLock::new();
        SERVER.get_or_init(|| S3Server::start(S3Mode::Normal))
    }

    /// Starts a server, failing the test (never skipping it) when it cannot.
    pub fn start(mode: S3Mode) -> S3Server {
        use std::io::BufRead;
        use std::process::Stdio;
        let mode_name = match mode {
            S3Mode::Normal => "normal",
            S3Mode::IgnoresConditionalWrites => "ignores-conditional-writes",
        };
        let mut child = Command::new("python3")
            .args(["-c", S3_LAUNCHER, mode_name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (the S3 test server is moto, a Python package)");
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            let probe = Command::new("python3")
                .args(["-c", "import moto.server, boto3"])
                .output()
                .map(|output| String::from_utf8_lossy(&output.stderr).into_owned())
                .unwrap_or_else(|error| error.to_string());
            panic!(
                "the S3 test server (moto) did not start; install it with `python3 -m pip install 'moto[server]'` (scripts/test.sh does): {probe}"
            )
        });
        S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            child: std::sync::Mutex::new(child),
        }
    }

    /// A new, empty bucket with a name unique to this server.
    pub fn bucket(&self, name: &str) -> String {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bucket = format!("{name}-{number}");
        self.admin(&["create", &bucket], None);
        bucket
    }

    /// Every object in the bucket, with its bytes.
    pub fn objects(&self, bucket: &str) -> Vec<(String, Vec<u8>)> {
        let listing: Vec<(String, String)> =
            serde_json::from_str(&self.admin(&["dump", bucket], None)).unwrap();
        listing
            .into_iter()
            .map(|(key, hex)| (key, from_hex(&hex)))
            .collect()
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.objects(bucket)
            .into_iter()
            .find(|(name, _)| name == key)
            .map(|(_, bytes)| bytes)
    }

    pub fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        self.admin(&["put", bucket, key], Some(&hex));
    }

    pub fn delete_object(&self, bucket: &str, key: &str) {
        self.admin(&["delete", bucket, key], None);
    }

    /// Requests served so far, by HTTP method.
    pub fn request_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.counted("requests")
    }

    /// JSON-protocol requests (Secrets Manager, SSM) served so far, by `X-Amz-Target`
    /// action, e.g. `secretsmanager.PutSecretValue`.
    pub fn action_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.counted("actions")
    }

    fn counted(&self, what: &str) -> std::collections::BTreeMap<String, u64> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let request = format!("GET /_envsync/{what} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str(body).unwrap()
    }

    pub fn request_total(&self) -> u64 {
        self.request_counts().values().sum()
    }

    fn admin(&self, args: &[&str], input: Option<&str>) -> String {
        let mut all = vec![self.endpoint.as_str()];
        all.extend_from_slice(args);
        python(S3_ADMIN, &all, input.unwrap_or_default(), "S3 admin")
    }
}

/// Runs the Python `script` with `args` and `input` on stdin: its stdout. A failure fails
/// the test, naming `what` and showing the script's stderr.
pub fn python(script: &str, args: &[&str], input: &str, what: &str) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{what} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&hex[index..index + 2], 16).unwrap())
        .collect()
}

impl Teammate {
    /// Gives this teammate an AWS profile (`~/.aws/credentials`) for the test server, which
    /// accepts any keys.
    pub fn use_aws_profile(&self) {
        let aws = self.home.join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            format!(
                "[default]\naws_access_key_id = AKIA{0}\naws_secret_access_key = secret-of-{0}\n",
                self.name.to_uppercase()
            ),
        )
        .unwrap();
        std::fs::write(aws.join("config"), "[default]\nregion = us-east-1\n").unwrap();
    }
}
