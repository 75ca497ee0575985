//! What an editor extension drives the CLI with, against a real envsync server: a watch that
//! reports instead of pulling, the remote head on stdout, and a conflicted sync decided key
//! by key without a terminal.

mod support;

use std::time::Duration;

use support::server::Server;
use support::team_server::{ALICE_ENV, Watcher, alice_invites_bob};
use support::{Team, Teammate};

const PROMPTLY: Duration = Duration::from_secs(10);

/// Bob and Alice both edit API_KEY and DB_URL after version 2; Alice pushes first.
fn conflicted(team: &Team, server: &Server) -> (Teammate, Teammate) {
    let (alice, bob) = alice_invites_bob(team, server, server, "writer");
    alice.write_env(
        ".env",
        "DB_URL=alice-db\nAPI_KEY=alice-key\nNEW=from-alice\n",
    );
    alice.run(&["push", "-m", "alice"]).ok();
    bob.write_env(".env", "# database\nDB_URL=bob-db\nAPI_KEY=bob-key\n");
    (alice, bob)
}

#[test]
fn watch_report_says_what_it_would_pull_and_pulls_nothing() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    // Polling every second is the only way this watcher hears of the push: no live event
    // is needed, which shows --refresh-seconds overrides the config's 0.
    bob.set_auto_refresh(0);
    let watcher = Watcher::start_with(
        &bob,
        &["watch", "--json", "--report", "--refresh-seconds", "1"],
        &[],
    );
    watcher.wait_for("the initial status", PROMPTLY, |event| {
        event["event"] == "status" && event["badge"] == "synced"
    });
    alice.write_env(".env", "DB_URL=rotated\n");
    alice.run(&["push", "-m", "rotate"]).ok();
    let status = watcher.wait_for("update available", PROMPTLY, |event| {
        event["event"] == "status" && event["badge"] == "update_available"
    });
    assert_eq!(status["action"], "pull");
    assert_eq!(status["remote_author"], "alice");
    let would = watcher.wait_for("would_pull", PROMPTLY, |event| {
        event["event"] == "would_pull"
    });
    assert_eq!(would["version"], 3);
    assert_eq!(would["author"], "alice");
    assert_eq!(would["file"], ".env");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(bob.read_env(".env"), ALICE_ENV, "--report never pulls");
    watcher.stop();
    // The editor decides: a plain pull takes it, naming the author.
    let pulled = bob.run(&["pull", "--json"]).ok().document("Pulled");
    assert_eq!(pulled["author"], "alice");
    assert_eq!(bob.read_env(".env"), "DB_URL=rotated\n");
}

#[test]
fn show_remote_prints_the_head_and_writes_nothing() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = conflicted(&team, &server);
    let before = std::fs::read_dir(&bob.workspace).unwrap().count();
    let shown = bob.run(&["show", "--remote"]).ok();
    assert_eq!(
        shown.stdout,
        "DB_URL=alice-db\nAPI_KEY=alice-key\nNEW=from-alice\n"
    );
    assert_eq!(
        bob.read_env(".env"),
        "# database\nDB_URL=bob-db\nAPI_KEY=bob-key\n"
    );
    assert_eq!(std::fs::read_dir(&bob.workspace).unwrap().count(), before);
    // Without --remote it is a usage error; an unknown environment is bad input.
    bob.run(&["show"]).code(2);
    bob.run(&["show", "--remote", "-e", "nope"]).code(2);
    drop(alice);
}

#[test]
fn sync_resolve_decides_each_key_and_writes_nothing_until_all_are() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = conflicted(&team, &server);
    let mine = "# database\nDB_URL=bob-db\nAPI_KEY=bob-key\n";

    // One key undecided: exit 3, the undecided key named, nothing written.
    let partial = bob
        .run(&["sync", "--resolve", "DB_URL=theirs", "--json"])
        .code(3);
    let failure = partial.document("Failure");
    let message = failure["error"].as_str().unwrap();
    assert!(
        message.contains("API_KEY") && !message.contains("DB_URL"),
        "{message}"
    );
    assert_eq!(bob.read_env(".env"), mine);
    assert_eq!(bob.badge("development"), "diverged");

    // A bad choice is bad input.
    bob.run(&["sync", "--resolve", "DB_URL=maybe"]).code(2);

    // Every key decided: theirs for one, a new value from stdin for the other.
    let synced = bob
        .run_with_stdin(
            &[
                "sync",
                "--resolve",
                "DB_URL=theirs",
                "--resolve",
                "API_KEY=stdin",
                "--json",
            ],
            "typed-in-editor\n",
        )
        .ok()
        .document("Synced");
    assert_eq!(synced["resolved"], serde_json::json!(["DB_URL", "API_KEY"]));
    assert_eq!(synced["pushed"], 4);
    let merged = bob.read_env(".env");
    assert!(merged.contains("DB_URL=alice-db"), "{merged}");
    assert!(merged.contains("API_KEY=typed-in-editor"), "{merged}");
    assert!(merged.contains("NEW=from-alice"), "{merged}");
    alice.run(&["pull"]).ok();
    assert_eq!(
        alice.read_env(".env"),
        merged,
        "the merge reached the remote"
    );
}
