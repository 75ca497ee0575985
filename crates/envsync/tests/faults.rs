//! Faults in what envsync stands on (issue 16, item 4): a SQLite database that cannot grow
//! (a file-size limit, which root cannot bypass, set on the running server with `prlimit`)
//! and a client whose clock is a day off (libfaketime).

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::Team;
use support::server::{Api, Server};
use support::team_server::alice_invites_bob;

/// Sets the running process `pid`'s (soft) file-size limit, in bytes or `unlimited`: the
/// kernel enforces it on root too; the hard limit stays unlimited, so it can be raised again.
fn file_size_limit(pid: u32, limit: &str) {
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &pid.to_string(),
            &format!("--fsize={limit}:unlimited"),
        ])
        .status()
        .expect("prlimit (util-linux)");
    assert!(status.success());
}

/// A `.env` of `keys` random-looking values: a push too big to fit in a few pages.
fn large_env(keys: usize, tag: &str) -> String {
    (0..keys)
        .map(|key| format!("KEY_{key}={tag}{:032x}\n", key * 2_654_435_761))
        .collect()
}

#[test]
fn a_sqlite_database_that_cannot_grow_refuses_writes_clearly_and_keeps_serving_reads() {
    let team = Team::new();
    let data = team.root.path().join("server");
    let server =
        Server::ignoring_file_size_signal(vec!["--data-dir".into(), data.display().to_string()]);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    // No file of the server may grow past 64 KiB from now on.
    file_size_limit(server.pid(), "65536");
    let big = large_env(4_000, "full");
    alice.write_env(".env", &big);
    let refused = alice.run(&["push"]);
    assert_ne!(refused.code, 0, "a push the database cannot hold fails");
    assert!(
        refused.stderr.contains("cannot store more"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.starts_with("error: "), "{}", refused.stderr);
    // Reads are served: Bob pulls what was there, Alice's edit is still hers to push.
    bob.run(&["pull"]).ok();
    bob.run(&["log"]).ok();
    assert_eq!(alice.read_env(".env"), big);
    file_size_limit(server.pid(), "unlimited");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), big);
}

/// libfaketime's library, which shifts the clock of the process it is loaded into.
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[test]
fn a_client_clock_a_day_off_changes_nothing() {
    assert!(
        std::path::Path::new(FAKETIME).exists(),
        "libfaketime is installed (scripts/test.sh installs the faketime package)"
    );
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let behind = [("LD_PRELOAD", FAKETIME), ("FAKETIME", "-1d")];
    let ahead = [("LD_PRELOAD", FAKETIME), ("FAKETIME", "+1d")];
    let now = |env: &[(&str, &str)]| -> i64 {
        let output = alice
            .program("date", &["+%s"])
            .envs(env.iter().copied())
            .output();
        String::from_utf8(output.unwrap().stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let shift = now(&ahead) - now(&[]);
    assert!(
        (86_000..86_800).contains(&shift),
        "faketime shifts the clock: {shift} s"
    );

    // Alice's clock is a day behind, Bob's a day ahead: order comes from version numbers.
    alice.write_env(".env", "FROM=alice-behind\n");
    alice.run_with_env(&["push"], &behind).ok();
    bob.run_with_env(&["pull"], &ahead).ok();
    assert_eq!(bob.read_env(".env"), "FROM=alice-behind\n");
    bob.write_env(".env", "FROM=bob-ahead\n");
    bob.run_with_env(&["push"], &ahead).ok();
    alice.write_env(".env", "FROM=alice-behind\nALSO=alice\n");
    alice.run_with_env(&["sync"], &behind).ok();
    assert_eq!(alice.read_env(".env"), "FROM=bob-ahead\nALSO=alice\n");
    bob.run_with_env(&["pull"], &ahead).ok();
    assert_eq!(bob.read_env(".env"), "FROM=bob-ahead\nALSO=alice\n");
    let log = bob.run_with_env(&["log", "--json"], &behind).ok().json();
    let numbers: Vec<u64> = log["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|version| version["version"].as_u64().unwrap())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(numbers.len(), sorted.len(), "{numbers:?}");

    // A token that expires in 2 hours, used by a client two days ahead: the server judges
    // expiry by its own clock, so it still works.
    let created = alice
        .run_with_env(&["token", "create", "script", "--expires", "2h"], &ahead)
        .ok();
    let token = created
        .stdout
        .split(|c: char| c.is_whitespace() || c == '"')
        .find(|word| word.starts_with("esk_"))
        .unwrap_or_else(|| panic!("no token in: {}", created.stdout))
        .to_owned();
    let two_days = [("LD_PRELOAD", FAKETIME), ("FAKETIME", "+2d")];
    alice
        .run_with_env(&["login", &server.url, "--token", &token], &two_days)
        .ok();
    alice.run_with_env(&["pull"], &two_days).ok();
}

/// A client whose connection drops mid-upload: the server stores nothing of it, keeps
/// serving, and the next push (the same number) lands.
#[test]
fn a_connection_dropped_mid_upload_stores_nothing() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, _bob) = alice_invites_bob(&team, &server, &server, "writer");
    let token = alice.server_token();
    let api = Api::new(&server.url);
    let head = "/api/v1/projects/app/environments/development/head";
    let before = api.get(head, Some(&token)).body;
    let address = server.url.trim_start_matches("http://");
    for sent in [0, 10, 5_000] {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let body = format!("{{\"record\": {{\"body\": \"{}", "x".repeat(sent));
        let request = format!(
            "PUT /api/v1/projects/app/environments/development/versions/2 HTTP/1.1\r\n\
             Host: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{body}"
        );
        stream.write_all(request.as_bytes()).unwrap();
        stream.shutdown(std::net::Shutdown::Both).unwrap();
    }
    // One more that stalls: the server's time limit, not the client, ends it.
    let mut stalled = std::net::TcpStream::connect(address).unwrap();
    stalled
        .write_all(b"PUT /api/v1/projects/app/environments/development/versions/2 HTTP/1.1\r\n")
        .unwrap();
    assert_eq!(
        api.get(head, Some(&token)).body,
        before,
        "nothing was stored"
    );
    alice.write_env(".env", "AFTER=dropped\n");
    alice.run(&["push"]).ok();
    assert_ne!(api.get(head, Some(&token)).body, before);
    drop(stalled);
    let mut after_drop = std::net::TcpStream::connect(address).unwrap();
    after_drop
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    after_drop
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    after_drop.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A PostgreSQL cluster of the test's own (its data directory and port, run as the
/// `postgres` user), never the shared one on 5432: it is stopped and started mid-test.
struct PrivateCluster {
    data: std::path::PathBuf,
    bin: std::path::PathBuf,
    port: u16,
    _root: tempfile::TempDir,
}

/// A free port below Linux's ephemeral range (32768 and up): the cluster is stopped and
/// started again on it, and in between a port from that range could be taken as the source
/// port of any outgoing connection of the tests running beside this one.
fn port_outside_the_ephemeral_range() -> u16 {
    let start = 20_000 + u16::try_from(std::process::id() % 5_000).unwrap();
    (start..32_000)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port below 32000")
}

/// Sets its flag when dropped, panics included.
struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl PrivateCluster {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries (scripts/test.sh installs them)")
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .find(|bin| bin.join("pg_ctl").exists())
            .expect("pg_ctl");
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir(&data).unwrap();
        as_postgres(
            "chown",
            &["-R", "postgres", root.path().to_str().unwrap()],
            false,
        );
        let port = port_outside_the_ephemeral_range();
        let cluster = Self {
            data,
            bin,
            port,
            _root: root,
        };
        let initdb = cluster.bin.join("initdb");
        let data = cluster.data.to_str().unwrap();
        as_postgres(
            initdb.to_str().unwrap(),
            &["-D", data, "--auth=trust", "-U", "postgres"],
            true,
        );
        cluster.pg_ctl("start");
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.display()
        );
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.data.to_str().unwrap();
        let mut args = vec!["-D", data, "-w", "-m", "fast", "-l"];
        let log = self.data.join("log.txt");
        args.push(log.to_str().unwrap());
        if action == "start" {
            args.extend(["-o", &options]);
        }
        args.push(action);
        as_postgres(pg_ctl.to_str().unwrap(), &args, true);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--", pg_ctl.to_str().unwrap(), "-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// Runs `program ARGS`, as the `postgres` user when `as_user`, which must succeed.
fn as_postgres(program: &str, args: &[&str], as_user: bool) {
    let output = if as_user {
        Command::new("runuser")
            .args(["-u", "postgres", "--", program])
            .args(args)
            .output()
    } else {
        Command::new(program).args(args).output()
    };
    let output = output.unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// PostgreSQL stopped under a load of pushes: clients get 503 and a clear message, `/ready`
/// says 503; once it is back, pushes land again with no server restart, and every push
/// acknowledged before is there.
#[test]
fn postgresql_restarted_mid_load_costs_no_acknowledged_push() {
    let cluster = PrivateCluster::start();
    let team = Team::new();
    let server = Server::postgres(&cluster.url());
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let api = Api::new(&server.url);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let acknowledged = std::thread::scope(|scope| {
        let pusher = scope.spawn(|| {
            let mut acknowledged = Vec::new();
            for push in 0.. {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let message = format!("load-{push}");
                bob.write_env(".env.staging", &format!("PUSH={push}\n"));
                let run = bob.run(&["push", "-e", "staging", "-m", &message]);
                if run.code == 0 {
                    acknowledged.push(message);
                } else {
                    let _ = bob.run(&["sync", "-e", "staging"]);
                }
            }
            acknowledged
        });
        // Stops the pusher however this thread ends: the scope joins it even on a panic,
        // and a failed assertion must fail the test, not leave it pushing forever.
        let _stop_on_exit = StopOnDrop(&stop);
        std::thread::sleep(Duration::from_millis(700));
        cluster.pg_ctl("stop");
        alice.write_env(".env", "DURING=outage\n");
        let refused = alice.run(&["push"]);
        assert_ne!(refused.code, 0);
        assert!(
            refused.stderr.contains("database is unavailable"),
            "{}",
            refused.stderr
        );
        assert_eq!(api.get("/api/v1/ready", None).status, 503);
        cluster.pg_ctl("start");
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        pusher.join().unwrap()
    });
    assert!(!acknowledged.is_empty(), "some pushes landed");
    let ready = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        api.get("/api/v1/ready", None).status == 200
    });
    assert!(ready, "ready again once PostgreSQL is back");
    alice.run(&["push"]).ok();
    let log = bob.run(&["log", "--json", "-e", "staging"]).ok();
    for message in acknowledged {
        assert!(
            log.stdout.contains(&format!("\"{message}\"")),
            "acknowledged push {message} lost when PostgreSQL restarted"
        );
    }
}
