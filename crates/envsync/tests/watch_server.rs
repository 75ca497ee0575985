//! `envsync watch` against a real envsync server: live events over the WebSocket, a server
//! restart, two PostgreSQL replicas, and a revoked token. Polling is off in the watcher's
//! envsync.toml (`auto_refresh_seconds = 0`), so only a live event can explain an update.

mod support;

use std::time::{Duration, Instant};

use support::server::{PgDatabase, Server};
use support::team_server::{Watcher, alice_invites_bob};
use support::{Team, Teammate};

const ROTATED: &str = "DB_URL=postgres://db.internal/app\nAPI_KEY=rotated\n";
/// Far below any poll interval; generous for a loaded CI machine running debug builds.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Bob's watcher, started once its socket is open and its first refresh has reported.
fn watch(bob: &Teammate) -> Watcher {
    watch_with(bob, &["watch", "--json"]).0
}

/// Bob's `envsync ARGS` watcher once connected, and its first status of development.
fn watch_with(bob: &Teammate, args: &[&str]) -> (Watcher, serde_json::Value) {
    bob.set_auto_refresh(0);
    let watcher = Watcher::start_with(bob, args, &[]);
    watcher.wait_for("a connection", PROMPTLY, |event| {
        event["event"] == "connected"
    });
    let initial = watcher.wait_for("the initial status", PROMPTLY, |event| {
        event["event"] == "status" && event["environment"] == "development"
    });
    (watcher, initial)
}

/// Alice pushes `text`; Bob's watcher pulls it promptly.
fn push_reaches(alice: &Teammate, bob: &Teammate, watcher: &Watcher, text: &str) {
    alice.write_env(".env", text);
    alice.run(&["push", "-m", "live"]).ok();
    let pushed = Instant::now();
    let pulled = watcher.wait_for("a pull", PROMPTLY, |event| event["event"] == "pulled");
    assert_eq!(pulled["schema"], 2);
    assert_eq!(pulled["environment"], "development");
    assert_eq!(bob.read_env(".env"), text);
    eprintln!("pushed to pulled: {:?}", pushed.elapsed());
}

#[test]
fn a_push_reaches_a_watcher_through_the_servers_live_events() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let watcher = watch(&bob);
    push_reaches(&alice, &bob, &watcher, ROTATED);
    // A second push is heard on the same socket.
    push_reaches(&alice, &bob, &watcher, "API_KEY=again\n");
}

#[test]
fn an_edited_file_is_flagged_and_never_overwritten() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let watcher = watch(&bob);
    bob.write_env(".env", "API_KEY=bobs-unpushed-edit\n");
    watcher.wait_for("local changes", PROMPTLY, |event| {
        event["badge"] == "local_changes"
    });
    alice.write_env(".env", ROTATED);
    alice.run(&["push"]).ok();
    let diverged = watcher.wait_for("diverged", PROMPTLY, |event| event["badge"] == "diverged");
    assert_eq!(diverged["action"], "sync", "the same word as status");
    assert_eq!(bob.read_env(".env"), "API_KEY=bobs-unpushed-edit\n");
}

#[test]
fn a_watcher_reconnects_after_a_server_restart() {
    let team = Team::new();
    let mut server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let watcher = watch(&bob);
    server.stop();
    let down = watcher.wait_for("a disconnection", PROMPTLY, |event| {
        event["event"] == "disconnected"
    });
    assert_eq!(down["remote"], server.url.as_str());
    assert!(down["retry_in_ms"].as_u64().unwrap() <= 625, "{down}");
    assert!(
        down["reason"].as_str().unwrap().contains(&server.url),
        "{down}"
    );
    server.restart();
    watcher.wait_for("a reconnection", Duration::from_secs(40), |event| {
        event["event"] == "connected"
    });
    push_reaches(&alice, &bob, &watcher, ROTATED);
}

#[test]
fn events_cross_postgresql_replicas_and_a_reconnect_catches_up() {
    let team = Team::new();
    let database = PgDatabase::create();
    let first = Server::postgres(&database.url);
    let mut second = Server::postgres(&database.url);
    // Alice pushes through the first replica; Bob watches the second.
    let (alice, bob) = alice_invites_bob(&team, &first, &second, "writer");
    let watcher = watch(&bob);
    push_reaches(&alice, &bob, &watcher, ROTATED);

    // A push while Bob's replica is down sends him no event: the refresh after the
    // reconnection finds it by comparing heads.
    second.stop();
    watcher.wait_for("a disconnection", PROMPTLY, |event| {
        event["event"] == "disconnected"
    });
    alice.write_env(".env", "API_KEY=while-away\n");
    alice.run(&["push", "-m", "while away"]).ok();
    second.restart();
    watcher.wait_for("a reconnection", Duration::from_secs(40), |event| {
        event["event"] == "connected"
    });
    watcher.wait_for("the catch-up pull", PROMPTLY, |event| {
        event["event"] == "pulled"
    });
    assert_eq!(bob.read_env(".env"), "API_KEY=while-away\n");
}

#[test]
fn a_revoked_token_stops_the_watch_with_exit_code_5() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (_alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let watcher = watch(&bob);
    let tokens = bob
        .run(&["token", "list", "--json"])
        .ok()
        .document("Tokens");
    let id = tokens["tokens"][0]["id"].as_str().unwrap().to_owned();
    bob.run(&["token", "revoke", &id]).ok();
    // The server notices at its next ping (every 20 s) and closes the socket; the
    // reconnection is refused.
    let (code, stderr) = watcher.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 5, "{stderr}");
    let lines: Vec<&str> = stderr.trim().lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("refused the token"),
        "{stderr}"
    );
}

#[test]
fn a_person_reads_one_line_when_the_connection_drops_and_one_when_it_returns() {
    let team = Team::new();
    let mut server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    bob.set_auto_refresh(0);
    let watcher = Watcher::start(&bob, false, &[]);
    let line = |wanted: &'static str| {
        move |event: &serde_json::Value| event.as_str().is_some_and(|line| line.contains(wanted))
    };
    let started = watcher.wait_for("the start line", PROMPTLY, line("watching"));
    assert!(
        started
            .as_str()
            .unwrap()
            .contains("(live events; no polling)"),
        "{started}"
    );
    watcher.wait_for("the initial status", PROMPTLY, line("development: synced"));
    // Nothing tells a person of the first connection; give it time to open.
    std::thread::sleep(Duration::from_secs(1));
    server.stop();
    // Several attempts fail meanwhile (after about 0.5 s, 1 s, 2 s); one line says so.
    std::thread::sleep(Duration::from_secs(4));
    server.restart();
    watcher.wait_for(
        "a reconnection",
        Duration::from_secs(40),
        line("reconnected"),
    );
    alice.write_env(".env", ROTATED);
    alice.run(&["push"]).ok();
    watcher.wait_for("a pull", PROMPTLY, line("pulled version"));
    let said = watcher.stop();
    let count = |text: &str| said.lines().filter(|line| line.contains(text)).count();
    assert_eq!(count("reconnecting in"), 1, "{said}");
    assert_eq!(
        count(&format!("reconnected to server {}", server.url)),
        1,
        "{said}"
    );
    assert_eq!(count("error"), 0, "{said}");
}

#[test]
fn live_events_over_tls_trust_the_same_authorities_as_https() {
    let team = Team::new();
    let (ca, cert, key) = support::team_server::private_ca(team.root.path());
    let server = Server::start(vec![
        "--data-dir".into(),
        team.root.path().join("server").display().to_string(),
        "--tls-cert".into(),
        cert.display().to_string(),
        "--tls-key".into(),
        key.display().to_string(),
    ]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let trust = [("ENVSYNC_CA_CERT", ca.to_str().unwrap())];
    let alice = team.member_of("alice", &server.url);
    let code = server.setup_code.as_deref().unwrap();
    alice
        .run_with_env(&["join", &server.url, code], &trust)
        .ok();
    alice.write_env(".env", "API_KEY=first\n");
    alice.run_with_env(&["push"], &trust).ok();
    // Alice's second clone (same identity and credentials) is the one watched.
    let laptop = Teammate {
        name: "alice".into(),
        home: alice.home.clone(),
        workspace: team.root.path().join("clone-alice-laptop"),
    };
    std::fs::create_dir_all(&laptop.workspace).unwrap();
    std::fs::copy(
        alice.workspace.join("envsync.toml"),
        laptop.workspace.join("envsync.toml"),
    )
    .unwrap();
    laptop.set_auto_refresh(0);
    laptop.run_with_env(&["pull"], &trust).ok();

    // Without the CA the socket is refused like any request, and retried.
    let untrusting = Watcher::start(&laptop, true, &[]);
    let refused = untrusting.wait_for("a refused connection", PROMPTLY, |event| {
        event["event"] == "disconnected"
    });
    assert!(
        refused["reason"].as_str().unwrap().contains("certificate"),
        "{refused}"
    );
    drop(untrusting);

    let watcher = Watcher::start(&laptop, true, &trust);
    watcher.wait_for("a connection", PROMPTLY, |event| {
        event["event"] == "connected"
    });
    alice.write_env(".env", "API_KEY=second\n");
    alice.run_with_env(&["push"], &trust).ok();
    watcher.wait_for("a pull", PROMPTLY, |event| event["event"] == "pulled");
    assert_eq!(laptop.read_env(".env"), "API_KEY=second\n");
}

/// Bob pushes from a terminal while his own watcher runs. The server's event can reach the
/// watcher before that push has recorded its new base (`.envsync/P/E/state.json`), and a
/// refresh then sees the file and the remote both past the old base: diverged. The state
/// write that follows must wake the watcher, or the row stays diverged until the next poll
/// (never, here). The test plays the late write itself: it puts the state from before the
/// push back, then the state after it, each as an atomic rename like envsync's own.
#[test]
fn a_base_recorded_after_the_servers_event_still_wakes_the_watcher() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (_alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let state = bob.workspace.join(".envsync/app/development/state.json");
    let before = std::fs::read(&state).expect("Bob's base after joining");
    let watcher = watch(&bob);
    bob.write_env(".env", "API_KEY=bobs-edit\n");
    watcher.wait_for("local changes", PROMPTLY, |event| {
        event["badge"] == "local_changes"
    });
    bob.run(&["push", "-m", "from a terminal"]).ok();
    watcher.wait_for("synced after the push", PROMPTLY, |event| {
        event["badge"] == "synced"
    });
    let after = std::fs::read(&state).unwrap();
    // The push may have shown diverged on its way to synced (the very race); only what the
    // watcher says after the replacements below counts.
    watcher.forget_seen();
    let replace = |bytes: &[u8]| {
        let temporary = state.with_extension("json.test");
        std::fs::write(&temporary, bytes).unwrap();
        std::fs::rename(&temporary, &state).unwrap();
    };
    replace(&before);
    watcher.wait_for("diverged on the old base", PROMPTLY, |event| {
        event["badge"] == "diverged"
    });
    replace(&after);
    watcher.wait_for("synced once the base is recorded", PROMPTLY, |event| {
        event["badge"] == "synced"
    });
}

/// The editor's way: a `--report` watcher says what could be pulled, and another process
/// pulls it. Round after round, the watcher must see each pull land (synced) and hear the
/// next push: its own wake-ups on the base the pull records must never stall it.
#[test]
fn a_reporting_watcher_follows_pulls_made_by_another_process() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let (watcher, initial) = watch_with(&bob, &["watch", "--json", "--report"]);
    assert_eq!(initial["badge"], "synced");
    for round in 0..12 {
        alice.write_env(".env", &format!("COUNTER={round}\n"));
        alice.run(&["push", "-m", "round"]).ok();
        watcher.wait_for("a would_pull", PROMPTLY, |event| {
            event["event"] == "would_pull"
        });
        bob.run(&["pull"]).ok();
        watcher.wait_for("synced after the pull", PROMPTLY, |event| {
            event["badge"] == "synced"
        });
    }
}

/// A `--report` watcher offers every new remote version, not only the first after the file
/// was last seen synced: an editor that left version 2 alone (or whose pull the watcher
/// never saw land) still hears of version 3.
#[test]
fn a_reporting_watcher_offers_each_new_version() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let (watcher, _) = watch_with(&bob, &["watch", "--json", "--report"]);
    for text in ["A=1\n", "A=2\n"] {
        alice.write_env(".env", text);
        let pushed = alice.run(&["push", "--json"]).ok();
        let version =
            serde_json::from_str::<serde_json::Value>(&pushed.stdout).unwrap()["version"].clone();
        watcher.wait_for("a would_pull of the new version", PROMPTLY, |event| {
            event["event"] == "would_pull" && event["version"] == version
        });
    }
}
