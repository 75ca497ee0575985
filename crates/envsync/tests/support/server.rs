//! A real `envsync server` process on an ephemeral loopback port, a fresh PostgreSQL
//! database per test, and a small HTTP client for calling the API directly.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use super::{Run, Teammate};

/// Marks a server started by [`Server::ignoring_file_size_signal`] (kept across restarts).
const IGNORE_XFSZ: &str = "ENVSYNC_TEST_IGNORE_XFSZ";

pub struct Server {
    child: Option<Child>,
    pub url: String,
    /// The owner setup code printed on a first start.
    pub setup_code: Option<String>,
    log: Arc<Mutex<String>>,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Server {
    /// A server keeping its SQLite database in `data_dir`.
    pub fn sqlite(data_dir: &Path) -> Self {
        Self::start(vec!["--data-dir".into(), data_dir.display().to_string()])
    }

    pub fn postgres(database_url: &str) -> Self {
        Self::start(vec!["--database-url".into(), database_url.to_owned()])
    }

    /// A server started with these extra `envsync server` arguments.
    pub fn start(args: Vec<String>) -> Self {
        Self::start_with_env(args, Vec::new())
    }

    /// [`Server::start`] with extra environment variables (e.g. `ENVSYNC_LOG`).
    pub fn start_with_env(args: Vec<String>, env: Vec<(String, String)>) -> Self {
        Self::start_on("127.0.0.1:0", args, env)
    }

    /// A server whose process ignores SIGXFSZ, as a server should run under a file-size
    /// limit: a write over the limit then fails with EFBIG instead of killing the process.
    pub fn ignoring_file_size_signal(args: Vec<String>) -> Self {
        Self::start_on("127.0.0.1:0", args, vec![(IGNORE_XFSZ.into(), "1".into())])
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    fn start_on(listen: &str, args: Vec<String>, env: Vec<(String, String)>) -> Self {
        let ignore_xfsz = env.iter().any(|(name, _)| name == IGNORE_XFSZ);
        let mut command = if ignore_xfsz {
            // An ignored signal stays ignored across exec, and the pid stays the server's.
            let mut shell = Command::new("sh");
            shell.args([
                "-c",
                "trap '' XFSZ; exec \"$0\" \"$@\"",
                env!("CARGO_BIN_EXE_envsync"),
            ]);
            shell
        } else {
            Command::new(env!("CARGO_BIN_EXE_envsync"))
        };
        let mut child = command
            .args(["server", "--listen", listen])
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start envsync server");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (ready, wait) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push_str(&format!("{line}\n"));
                if line.contains("listening on") {
                    let _ = ready.send(());
                }
            }
        });
        if wait.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            panic!("server did not start:\n{}", log.lock().unwrap());
        }
        let text = log.lock().unwrap().clone();
        let url = text
            .lines()
            .find_map(|line| line.split("listening on ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("listening line has a URL")
            .to_owned();
        let setup_code = text
            .lines()
            .find_map(|line| line.strip_prefix("owner setup code: "))
            .map(str::to_owned);
        Self {
            child: Some(child),
            url,
            setup_code,
            log,
            args,
            env,
        }
    }

    /// Stops with SIGTERM (a graceful shutdown) and waits for the process to exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server is running");
        super::signal(&child, "-TERM");
        child.wait().unwrap()
    }

    /// Kills the process with SIGKILL (no shutdown at all) and waits for it to be gone.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("server is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Sends SIGTERM without waiting: a graceful shutdown begins.
    pub fn terminate(&self) {
        let child = self.child.as_ref().expect("server is running");
        super::signal(child, "-TERM");
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child
            .take()
            .expect("server is running")
            .wait()
            .unwrap()
    }

    /// Stops and starts again on the same port and database.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        let listen = self.url.split("://").nth(1).unwrap_or_default().to_owned();
        let mut again = Self::start_on(&listen, self.args.clone(), self.env.clone());
        self.child = again.child.take();
        self.log = Arc::clone(&again.log);
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it holds `text` (a thread copies the server's stderr, so a line can
    /// arrive just after the reply it belongs to), or as it is after ten seconds.
    pub fn log_once_it_holds(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.contains(text) || std::time::Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A fresh database on the test PostgreSQL server (127.0.0.1:5432, or the server of
/// `ENVSYNC_TEST_POSTGRES_URL`), dropped afterwards.
pub struct PgDatabase {
    pub url: String,
    maintenance: String,
    name: String,
}

impl PgDatabase {
    pub fn create() -> Self {
        let maintenance = std::env::var("ENVSYNC_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("envsync_cli_{}_{nanos}", std::process::id());
        psql(&maintenance, &format!("CREATE DATABASE {name}"));
        let (base, _) = maintenance.rsplit_once('/').unwrap();
        Self {
            url: format!("{base}/{name}"),
            maintenance,
            name,
        }
    }

    /// Runs `sql` as the test server's administrator (from its maintenance database).
    pub fn admin(&self, sql: &str) {
        psql(&self.maintenance, sql);
    }

    /// The same database through the server's Unix socket (Debian's directory), in libpq's
    /// URL form: the directory percent-encoded as the host.
    pub fn over_socket(&self) -> String {
        let directory = "/var/run/postgresql";
        assert!(
            Path::new(directory).join(".s.PGSQL.5432").exists(),
            "no PostgreSQL socket in {directory} (scripts/test.sh starts the server)"
        );
        format!(
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/{}",
            self.name
        )
    }

    /// What `sql` returns, one row a line, as read in this database.
    pub fn query(&self, sql: &str) -> String {
        psql(&self.url, sql)
    }

    /// Every row of every table, as `pg_dump` prints it (bytea as hex).
    pub fn dump(&self) -> String {
        let output = Command::new("pg_dump")
            .args(["--data-only", &self.url])
            .output()
            .expect("run pg_dump");
        assert!(output.status.success(), "pg_dump failed: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(
            &self.maintenance,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Runs `sql` at `url`; what it returns, one row a line (no headers, no command tags).
fn psql(url: &str, sql: &str) -> String {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-tA", "-c", sql])
        .output()
        .expect("run psql (PostgreSQL's client; scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Direct API calls, for what the CLI never sends.
pub struct Api {
    agent: ureq::Agent,
    pub url: String,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// The stable error code of an error reply.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

impl Api {
    pub fn new(url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self {
            agent,
            url: url.to_owned(),
        }
    }

    fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = result.unwrap_or_else(|error| panic!("HTTP request: {error}"));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply { status, body }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.get_with(path, token, &[])
    }

    /// The requests the server has answered, by route template, from its `/metrics`.
    pub fn requests_by_route(&self) -> BTreeMap<String, u64> {
        let metrics = self.get("/metrics", None);
        assert_eq!(metrics.status, 200);
        let mut counts = BTreeMap::new();
        for line in metrics.body.lines() {
            let Some(labels) = line.strip_prefix("envsync_http_requests_total{") else {
                continue;
            };
            let route = labels.split("route=\"").nth(1).unwrap().split('"').next();
            let count: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            *counts.entry(route.unwrap().to_owned()).or_default() += count;
        }
        counts
    }

    /// The requests `mate`'s command `args` makes, by route template (the command must
    /// succeed), and what it printed.
    pub fn requests_of(&self, mate: &Teammate, args: &[&str]) -> (BTreeMap<String, u64>, Run) {
        let before = self.requests_by_route();
        let run = mate.run(args).ok();
        let mut made = self.requests_by_route();
        for (route, count) in &before {
            *made.get_mut(route).unwrap() -= count;
        }
        // The `/metrics` read that took `before` is counted in `made`.
        *made.get_mut("/metrics").unwrap() -= 1;
        made.retain(|_, count| *count > 0);
        (made, run)
    }

    /// A GET with extra request headers.
    pub fn get_with(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.agent.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::reply(request.call())
    }

    /// A GET whose body is bytes (a ciphertext), which must succeed.
    pub fn get_bytes(&self, path: &str, token: &str) -> Vec<u8> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .expect("HTTP request");
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        response.body_mut().read_to_vec().unwrap()
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.agent.delete(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Self::reply(request.call())
    }

    /// `method` is PUT or POST; `body` is sent as JSON text as is.
    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Reply {
        self.send_as(method, path, token, "application/json", body)
    }

    pub fn send_as(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Reply {
        let url = format!("{}{path}", self.url);
        let mut request = match method {
            "PUT" => self.agent.put(url),
            "POST" => self.agent.post(url),
            other => panic!("unsupported method {other}"),
        };
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Self::reply(request.content_type(content_type).send(body.as_bytes()))
    }
}
