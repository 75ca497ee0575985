//! `envsync watch` with a folder remote: real processes, real filesystem events.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::Team;
use support::remotes::alice_and_bob;

/// Reads the watcher's JSON lines until one satisfies `wanted`, or fails after a while.
fn wait_for(
    lines: &mpsc::Receiver<serde_json::Value>,
    what: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let received = lines.recv_timeout(left);
        if let Ok(event) = &received {
            support::schema::check(event, Some("WatchEvent"));
        }
        match received {
            Ok(event) if wanted(&event) => return event,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    panic!("the watcher never reported {what}");
}

#[test]
fn a_push_updates_a_watchers_clean_file_and_leaves_an_edited_one_alone() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let mut watcher = bob
        .command(&["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let event: serde_json::Value =
                serde_json::from_str(&line).expect("one JSON event per line");
            if sender.send(event).is_err() {
                break;
            }
        }
    });
    let first = wait_for(&lines, "the initial status", |event| {
        event["environment"] == "development"
    });
    assert_eq!(first["schema"], 2);
    assert_eq!(first["badge"], "synced");
    assert_eq!(first["remote_author"], "alice");

    alice.write_env(
        ".env",
        "DB_URL=postgres://db.internal/app\nAPI_KEY=rotated\n",
    );
    alice.run(&["push", "-m", "rotate"]).ok();
    let pulled = wait_for(&lines, "a pull", |event| event["event"] == "pulled");
    assert_eq!(pulled["version"], 3);
    assert_eq!(
        pulled["author"], "alice",
        "the name the membership log gives"
    );
    assert_eq!(
        bob.read_env(".env"),
        "DB_URL=postgres://db.internal/app\nAPI_KEY=rotated\n"
    );

    bob.write_env(".env", "DB_URL=mine\nAPI_KEY=rotated\n");
    wait_for(&lines, "local changes", |event| {
        event["badge"] == "local_changes"
    });
    alice.write_env(".env", "DB_URL=alice\nAPI_KEY=rotated\n");
    alice.run(&["push"]).ok();
    let diverged = wait_for(&lines, "diverged", |event| event["badge"] == "diverged");
    assert_eq!(diverged["action"], "sync", "the same word as status");
    assert_eq!(
        bob.read_env(".env"),
        "DB_URL=mine\nAPI_KEY=rotated\n",
        "an edited file is never overwritten"
    );

    watcher.kill().unwrap();
    watcher.wait().unwrap();
}
