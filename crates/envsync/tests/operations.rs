//! What a server's operator relies on (issue 16, items 5 and 6): `/metrics`, `/ready`,
//! JSON logs, and backups that can be restored, on SQLite (the online backup API) and on
//! PostgreSQL (pg_dump / pg_restore), with clients that notice a restored older server and
//! a member who brings it forward again.

mod support;

use std::process::Command;
use std::time::Duration;

use support::server::{Api, PgDatabase, Server};
use support::team_server::{Watcher, alice_invites_bob};
use support::{Run, Team, Teammate};

const SECRET: &str = "sk_live_metrics_must_not_show_this";

/// The value of the sample `name{labels…}` in Prometheus text whose labels include every
/// one of `labels`, summed over the samples that match.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn metrics_count_traffic_by_route_template_and_name_no_value_or_token() {
    let team = Team::new();
    let server = Server::start(vec![
        "--data-dir".into(),
        team.root.path().join("server").display().to_string(),
        "--log-format".into(),
        "json".into(),
    ]);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let api = Api::new(&server.url);
    let before = api.get("/metrics", None).body;
    alice.write_env(".env", &format!("STRIPE_KEY={SECRET}\n"));
    alice.run(&["push"]).ok();
    let watcher = Watcher::start(&bob, true, &[]);
    watcher.wait_for("a connection", Duration::from_secs(30), |event| {
        event["event"] == "connected"
    });
    let guess = "esk_0123456789ab_wrong-guess-secret";
    assert_eq!(api.get("/api/v1/whoami", Some(guess)).status, 401);
    assert_eq!(api.get("/api/v1/health", None).status, 200);
    let ready = api.get("/api/v1/ready", None);
    assert_eq!(
        (ready.status, &ready.json()["status"]),
        (200, &"ready".into())
    );

    let metrics = api.get("/metrics", None);
    assert_eq!(metrics.status, 200);
    let text = &metrics.body;
    let push_route =
        "route=\"/api/v1/projects/{project}/environments/{environment}/versions/{number}\"";
    let created = [push_route, "method=\"PUT\"", "status=\"201\""];
    let grew =
        |name: &str, labels: &[&str]| sample(text, name, labels) - sample(&before, name, labels);
    assert_eq!(
        grew("envsync_http_requests_total", &created),
        1.0,
        "one more push, labelled by the route's template: {text}"
    );
    assert_eq!(grew("envsync_pushes_total", &[]), 1.0, "{text}");
    assert_eq!(grew("envsync_failed_sign_ins_total", &[]), 1.0, "{text}");
    assert_eq!(
        sample(text, "envsync_event_streams_active", &[]),
        1.0,
        "{text}"
    );
    assert!(
        sample(text, "envsync_db_connections", &["state=\"max\""]) >= 1.0,
        "{text}"
    );
    assert!(
        sample(
            text,
            "envsync_http_request_duration_seconds_count",
            &[push_route]
        ) >= 2.0,
        "{text}"
    );
    assert!(text.contains("status=\"401\""), "{text}");
    for (what, needle) in [
        ("a pushed value", SECRET.to_owned()),
        ("a guessed token", guess.to_owned()),
        ("alice's token", alice.server_token()),
        ("the project's name as a label", "/projects/app".to_owned()),
        ("alice's fingerprint", alice.fingerprint()),
    ] {
        assert!(!text.contains(&needle), "/metrics shows {what}");
    }
    drop(watcher);
    let closed = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        sample(
            &api.get("/metrics", None).body,
            "envsync_event_streams_active",
            &[],
        ) == 0.0
    });
    assert!(
        closed,
        "the stream gauge goes back to 0 when the watcher leaves"
    );
}

/// `envsync_record_cache_bytes{state}` and the resets, from `/metrics`.
fn record_cache(api: &Api) -> (f64, f64, f64) {
    let text = api.get("/metrics", None).body;
    let state = |state: &str| {
        let label = format!("state=\"{state}\"");
        sample(&text, "envsync_record_cache_bytes", &[label.as_str()])
    };
    let resets = sample(&text, "envsync_record_cache_resets", &[]);
    (state("used"), state("budget"), resets)
}

#[test]
fn the_record_cache_keeps_to_the_size_the_operator_sets() {
    let team = Team::new();
    let data = |name: &str| team.root.path().join(name).display().to_string();
    let server = Server::start(vec!["--data-dir".into(), data("default")]);
    let (used, budget, _) = record_cache(&Api::new(&server.url));
    assert_eq!((used, budget), (0.0, 64.0 * 1024.0 * 1024.0));
    drop(server);

    // 0: nothing kept, and every read still answers (from the database).
    let server = Server::start(vec![
        "--data-dir".into(),
        data("none"),
        "--record-cache-mib".into(),
        "0".into(),
    ]);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    for round in 0..3 {
        alice.write_env(".env", &format!("ROUND={round}\n"));
        alice.run(&["push"]).ok();
        bob.run(&["pull"]).ok();
        assert_eq!(bob.read_env(".env"), format!("ROUND={round}\n"));
    }
    assert_eq!(record_cache(&Api::new(&server.url)), (0.0, 0.0, 0.0));

    // Not a size: refused before anything starts.
    let refused = envsync_server(&["--record-cache-mib", "lots", "--data-dir", &data("x")], 2);
    assert!(
        refused.stderr.contains("--record-cache-mib"),
        "{}",
        refused.stderr
    );
    assert!(!team.root.path().join("x").exists(), "nothing was created");
}

#[test]
fn json_logs_are_one_object_a_line_and_name_no_token() {
    let team = Team::new();
    let server = Server::start_with_env(
        vec![
            "--data-dir".into(),
            team.root.path().join("server").display().to_string(),
            "--log-format".into(),
            "json".into(),
        ],
        vec![("ENVSYNC_LOG".into(), "debug".into())],
    );
    let (alice, _bob) = alice_invites_bob(&team, &server, &server, "writer");
    alice.write_env(".env", &format!("STRIPE_KEY={SECRET}\n"));
    alice.run(&["push"]).ok();
    let log = server.log();
    let objects: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let requests: Vec<_> = objects
        .iter()
        .filter(|object| object["fields"]["message"] == "request")
        .collect();
    assert!(
        requests
            .iter()
            .any(|request| request["fields"]["status"] == 201 && request["level"] == "DEBUG"),
        "a JSON request line for each push: {log}"
    );
    // Every line is either JSON or one of the lines printed for the operator, not logged.
    for line in log.lines().filter(|line| !line.starts_with('{')) {
        assert!(
            line.starts_with("owner setup code")
                || line.starts_with("  ")
                || line.starts_with("envsync server listening")
                || line.starts_with("web dashboard: "),
            "a log line that is not JSON: {line}"
        );
    }
    for needle in [SECRET.to_owned(), alice.server_token()] {
        assert!(
            !log.contains(&needle),
            "the JSON log names a value or token"
        );
    }
}

/// `/ready` follows the database: 503 with a clear message while PostgreSQL refuses
/// connections, 200 again once it takes them, with `/health` (the process) 200 throughout.
#[test]
fn ready_answers_503_while_postgresql_refuses_and_200_after() {
    let database = PgDatabase::create();
    let server = Server::postgres(&database.url);
    let api = Api::new(&server.url);
    assert_eq!(api.get("/api/v1/ready", None).status, 200);
    let name = database.url.rsplit('/').next().unwrap().to_owned();
    database.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
    database.admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ));
    let refused = api.get("/api/v1/ready", None);
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.code(), "unavailable");
    assert!(
        refused.body.contains("database is unavailable"),
        "{}",
        refused.body
    );
    assert_eq!(api.get("/api/v1/health", None).status, 200);
    database.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    let back = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        api.get("/api/v1/ready", None).status == 200
    });
    assert!(back, "ready again once the database takes connections");
}

/// `envsync server ARGS` (backup, restore), which must exit with `code`.
#[track_caller]
fn envsync_server(args: &[&str], code: i32) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_envsync"))
        .arg("server")
        .args(args)
        .env_remove("ENVSYNC_DATABASE_URL")
        .output()
        .expect("run envsync server");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(run.code, code, "envsync server {args:?}: {}", run.stderr);
    run
}

/// After the server went back to an older copy: `seen` (who pulled the newest version) is
/// refused and told so, its file untouched; `envsync repair` on the `repairers`' machines
/// puts back the verified records they hold, and everyone carries on.
fn brought_forward(repairers: &[&Teammate], seen: &Teammate, newest: &str) {
    let refused = seen.run(&["pull"]).code(6);
    assert!(refused.stderr.contains("went back"), "{}", refused.stderr);
    assert_eq!(seen.read_env(".env"), newest);
    let said: String = repairers
        .iter()
        .map(|repairer| repairer.run(&["repair"]).ok().stderr)
        .collect();
    assert!(said.contains("put back versions"), "{said}");
    for member in repairers.iter().copied().chain([seen]) {
        member.run(&["pull"]).ok();
        assert_eq!(member.read_env(".env"), newest);
        member.run(&["status"]).ok();
    }
}

/// Item 5 on SQLite: a backup taken while pushes land is whole; a restore is refused while
/// the server runs; after it, Bob (who saw newer versions) is told the server went back,
/// and `envsync repair` on his machine brings the server forward again.
#[test]
fn a_sqlite_backup_restores_and_a_member_brings_the_server_forward() {
    let team = Team::new();
    let data = team.root.path().join("server");
    let data_arg = data.display().to_string();
    let mut server = Server::sqlite(&data);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let backup = team.root.path().join("backup.db");
    let backup_arg = backup.display().to_string();
    let backup_args = ["backup", &backup_arg, "--data-dir", &data_arg];
    // Taken while Alice pushes: online, and a consistent snapshot.
    let taken = std::thread::scope(|scope| {
        let pushes = scope.spawn(|| {
            for round in 0..3 {
                alice.write_env(".env", &format!("ROUND={round}\n"));
                alice.run(&["push"]).ok();
            }
        });
        let taken = envsync_server(&backup_args, 0);
        pushes.join().unwrap();
        taken
    });
    assert!(taken.stderr.contains("versions)"), "{}", taken.stderr);
    let integrity = Command::new("sqlite3")
        .arg(&backup)
        .arg("PRAGMA integrity_check;")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&integrity.stdout), "ok\n");

    alice.write_env(".env", "AFTER=backup\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    let restore_args = ["restore", &backup_arg, "--data-dir", &data_arg];
    let running = envsync_server(&restore_args, 1);
    assert!(
        running.stderr.contains("stop it before restoring"),
        "{}",
        running.stderr
    );
    server.stop();
    envsync_server(&restore_args, 0);
    server.restart();
    // Bob pulled only the newest version (of those the backup missed, he may hold one);
    // Alice, who pushed every one since the backup, holds them all.
    brought_forward(&[&bob, &alice], &bob, "AFTER=backup\n");
}

/// Bad input to backup and restore: one `error:` line, nothing changed.
#[test]
fn backup_and_restore_refuse_what_they_cannot_use() {
    let team = Team::new();
    let dir = team.root.path();
    let not_a_backup = dir.join("notes.txt");
    std::fs::write(&not_a_backup, "not a database\n").unwrap();
    let data_arg = dir.join("server").display().to_string();
    let not_a_backup = not_a_backup.to_str().unwrap();
    let restore = envsync_server(&["restore", not_a_backup, "--data-dir", &data_arg], 1);
    assert!(restore.stderr.starts_with("error: "), "{}", restore.stderr);
    assert!(
        !dir.join("server/envsync.db").exists(),
        "nothing was restored"
    );
    let target = dir.join("b.db");
    let target = target.to_str().unwrap();
    let postgres_url = "postgres://postgres:hunter2@127.0.0.1/none";
    let postgres = envsync_server(&["backup", target, "--database-url", postgres_url], 1);
    assert!(postgres.stderr.contains("pg_dump"), "{}", postgres.stderr);
    assert!(!postgres.stderr.contains("hunter2"), "{}", postgres.stderr);
    let missing = envsync_server(&["backup", target, "--data-dir", &data_arg], 1);
    assert!(
        missing.stderr.contains("no SQLite database"),
        "{}",
        missing.stderr
    );
}

/// Item 5 on PostgreSQL: the README's procedure (`pg_dump -Fc`; stop the server;
/// `pg_restore --clean`) gives a server that serves the backup, which a member brings
/// forward again.
#[test]
fn the_readme_postgresql_backup_procedure_restores_a_working_server() {
    let team = Team::new();
    let database = PgDatabase::create();
    let mut server = Server::postgres(&database.url);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let dump = team.root.path().join("envsync.dump");
    let dumped = Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&database.url)
        .status()
        .unwrap();
    assert!(dumped.success());
    alice.write_env(".env", "AFTER=backup\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    server.stop();
    let restored = Command::new("pg_restore")
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--dbname",
            &database.url,
        ])
        .arg(&dump)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&restored.stderr);
    assert!(restored.status.success(), "{stderr}");
    server.restart();
    brought_forward(&[&bob], &alice, "AFTER=backup\n");
}
