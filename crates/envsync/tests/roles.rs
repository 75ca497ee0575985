//! What members in each role see in their first week: environments their role does not
//! cover, advice they can act on, removal, and local edits never lost without a copy.

mod support;

use support::Team;
use support::remotes::alice_and_bob;

#[track_caller]
fn says(run: &support::Run, needle: &str) {
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains(needle), "expected `{needle}` in: {all}");
}

/// Issue 18, item 1: a member limited to staging sees development as `no access`. Joining
/// and leaving, she makes a new version of staging only (issue 19, item 3).
#[test]
fn a_member_limited_to_one_environment_sees_no_access_for_the_others() {
    let team = Team::new();
    let (alice, _bob) = alice_and_bob(&team);
    alice.write_env(".env.staging", "STAGING=1\n");
    alice.run(&["push", "--env", "staging"]).ok();
    let carol = team.member("carol");
    carol.run(&["pull", "--env", "staging"]).code(5);
    let development = alice.head_version("development");
    let staging = alice.head_version("staging");
    alice
        .run(&[
            "members", "accept", "carol", "--role", "reader", "--env", "staging",
        ])
        .ok();
    assert_eq!(
        (
            alice.head_version("development"),
            alice.head_version("staging")
        ),
        (development, staging + 1),
        "only the head carol may read is re-encrypted"
    );
    carol.run(&["pull", "--env", "staging"]).ok();
    assert_eq!(carol.badge("staging"), "synced");
    assert_eq!(carol.badge("development"), "no_access");
    says(&carol.run(&["status"]).ok(), "no access");
    // Pulling what the role does not cover names the owner to ask, not `members accept`.
    let refused = carol.run(&["pull"]).code(5);
    says(&refused, "does not cover `development`");
    says(&refused, "alice");
    assert!(
        !refused.stderr.contains("members accept"),
        "{}",
        refused.stderr
    );
    alice.run(&["members", "remove", "carol"]).ok();
    assert_eq!(
        (
            alice.head_version("development"),
            alice.head_version("staging")
        ),
        (development, staging + 2),
        "only the head carol could read is re-encrypted without her"
    );
}

/// Issue 18, item 3: who can roll back to a version encrypted before you joined.
#[test]
fn rolling_back_past_your_own_arrival_names_who_can() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let refused = bob.run(&["rollback", "1"]).code(5);
    says(&refused, "not a recipient of version 1");
    says(&refused, "It can be read by alice");
    alice.run(&["rollback", "1"]).ok();
}

/// Issue 18, item 5: `sync --theirs` kept no copy of the edits it threw away.
#[test]
fn sync_theirs_keeps_an_encrypted_backup_of_the_discarded_edit() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "API_KEY=alice\n");
    alice.run(&["push"]).ok();
    bob.write_env(".env", "API_KEY=bobs-unpushed\n");
    let synced = bob
        .run(&["sync", "--theirs", "--json"])
        .ok()
        .document("Synced");
    let backup = synced["backup"].as_str().expect("a backup path").to_owned();
    assert_eq!(bob.read_env(".env"), "API_KEY=alice\n");
    let sealed = std::fs::read(&backup).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("bobs-unpushed"));
    assert_eq!(
        bob.age_decrypt(std::path::Path::new(&backup)),
        "API_KEY=bobs-unpushed\n"
    );
}

/// Issue 18, item 6: advice a member can act on.
#[test]
fn advice_is_what_the_member_can_do() {
    let team = Team::new();
    let (alice, _bob) = alice_and_bob(&team);
    // An environment with no versions: there is nothing to pull; push creates it.
    alice.write_env(".env.staging", "S=1\n");
    let staging = alice.status_row("staging");
    assert_eq!(staging["action"], "push");
    // A reader's push is read-only (exit 5), not a conflict to sync.
    let reader = team.member("reader");
    reader.run(&["pull"]).code(5);
    // Someone waiting is not told to accept themselves.
    let waiting = reader.run(&["status"]).ok();
    assert!(
        !waiting
            .stdout
            .contains(&format!("members accept {}", reader.fingerprint())),
        "{}",
        waiting.stdout
    );
    alice
        .run(&["members", "accept", "reader", "--role", "reader"])
        .ok();
    reader.run(&["pull"]).ok();
    alice.write_env(".env", "A=moved\n");
    alice.run(&["push"]).ok();
    reader.write_env(".env", "A=mine\n");
    let refused = reader.run(&["push"]).code(5);
    says(&refused, "may not push");
    // Diverged, but there is nothing a reader could push: no `sync` advice.
    let status = reader.run(&["status", "--json"]).ok().document("Status");
    assert_eq!(status["environments"][0]["badge"], "diverged");
    assert!(status["environments"][0]["action"].is_null(), "{status}");
}

/// Issue 18, item 7: a removed member is told so, files nothing, and `watch` ends.
#[test]
fn a_removed_member_is_told_and_asks_nothing() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.run(&["members", "remove", "bob"]).ok();
    let refused = bob.run(&["pull"]).code(5);
    says(&refused, "you were removed from project `app` by alice");
    assert!(
        !team.remote_path("app/requests").exists()
            || std::fs::read_dir(team.remote_path("app/requests"))
                .unwrap()
                .next()
                .is_none(),
        "a request was filed"
    );
    bob.run(&["status"]).code(5);
    // Bounded, so that a watch that would loop forever fails the test instead of hanging.
    let output = bob
        .program("timeout", &["60", env!("CARGO_BIN_EXE_envsync"), "watch"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("you were removed"));
    let status = alice.run(&["status"]).ok();
    assert!(!status.stdout.contains("waiting"), "{}", status.stdout);
}

fn rotations(mate: &support::Teammate) -> Vec<String> {
    let status = mate.run(&["status", "--json"]).ok().document("Status");
    status["rotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rotation| rotation["key"].as_str().unwrap().to_owned())
        .collect()
}

/// Issue 18, rotation: after a removal every owner, on any machine, is reminded of the
/// secrets the removed member could read until they change or are dismissed.
#[test]
fn owners_are_reminded_to_rotate_what_a_removed_member_could_read() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "API_KEY=old-key\nDB_PASSWORD=old-db\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    // Dismissing a reminder is an owner's decision: a writer is refused.
    let refused = bob.run(&["rotate", "API_KEY", "--dismiss"]).code(5);
    says(&refused, "only an owner");
    alice.run(&["members", "remove", "bob"]).ok();
    assert_eq!(rotations(&alice), ["API_KEY", "DB_PASSWORD"]);
    says(&alice.run(&["status"]).ok(), "run `envsync rotate API_KEY");

    let rotated = alice
        .run_with_stdin(&["rotate", "API_KEY"], "new-key\n")
        .code;
    assert_eq!(rotated, 0);
    assert!(alice.read_env(".env").contains("API_KEY=new-key"));
    assert_eq!(rotations(&alice), ["DB_PASSWORD"]);
    // Derived from the history: another machine of Alice's sees the same.
    let laptop = support::Teammate {
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
    assert_eq!(rotations(&laptop), ["DB_PASSWORD"]);
    alice.run(&["rotate", "DB_PASSWORD", "--dismiss"]).ok();
    assert!(rotations(&laptop).is_empty());
    assert!(rotations(&alice).is_empty());
    assert!(
        !team
            .remote_files()
            .iter()
            .any(|(_, bytes)| { String::from_utf8_lossy(bytes).contains("new-key") })
    );
}

/// A removal from a large environment names its secrets to rotate in one line per
/// environment: a count and the first few, not a line per key (20 environments × 1,000
/// variables made 20,000 lines of `status`). `--json` still lists every one.
#[test]
fn secrets_to_rotate_are_summed_up_per_environment_and_listed_in_full_in_json() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let env: String = (1..=20)
        .map(|index| format!("KEY_{index:02}=v{index}\n"))
        .collect();
    alice.write_env(".env", &env);
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    let removed = alice.run(&["members", "remove", "bob"]).ok();
    says(
        &removed,
        "KEY_01, KEY_02, KEY_03, KEY_04, KEY_05, KEY_06, KEY_07, KEY_08 and 12 more",
    );
    assert!(!removed.stderr.contains("KEY_09"), "{}", removed.stderr);
    says(
        &removed,
        "note: `envsync status --json` lists every secret to rotate",
    );

    let status = alice.run(&["status"]).ok();
    let lines: Vec<&str> = status
        .stdout
        .lines()
        .filter(|line| line.starts_with("rotate"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", status.stdout);
    assert!(
        lines[0].starts_with("rotate these secrets of ")
            && lines[0].contains("bob was removed and could read their values")
            && lines[0].contains("KEY_08 and 12 more — run `envsync rotate KEY… --env"),
        "{}",
        lines[0]
    );
    let listed = rotations(&alice);
    assert_eq!(listed.len(), 20);
    assert_eq!(listed[19], "KEY_20");

    // Rotating all but two leaves a list short enough to write out, command and all.
    let keys: Vec<String> = (1..=18).map(|index| format!("KEY_{index:02}")).collect();
    let mut args = vec!["rotate", "--dismiss"];
    args.extend(keys.iter().map(String::as_str));
    alice.run(&args).ok();
    let status = alice.run(&["status"]).ok();
    says(&status, "could read their values (version");
    says(
        &status,
        "KEY_19, KEY_20 — run `envsync rotate KEY_19 KEY_20 --env",
    );
    assert!(
        !status.stderr.contains("lists every secret"),
        "{}",
        status.stderr
    );
}

/// Issue 18, item 6: `init` of a new environment said "next: `envsync pull`", with nothing
/// to pull.
#[test]
fn init_advises_push_for_an_environment_with_no_versions() {
    let team = Team::new();
    let (alice, _bob) = alice_and_bob(&team);
    std::fs::remove_file(alice.workspace.join("envsync.toml")).unwrap();
    let remote = team.remote.to_str().unwrap();
    let fresh = alice
        .run(&[
            "init",
            "--remote",
            remote,
            "--project",
            "app",
            "--env",
            "qa",
            "--file",
            ".env.qa",
        ])
        .ok();
    says(&fresh, "then `envsync push` creates the environment");
    assert!(!fresh.stderr.contains("envsync pull"), "{}", fresh.stderr);
    let existing = alice
        .run(&[
            "init",
            "--remote",
            remote,
            "--project",
            "app",
            "--env",
            "development",
        ])
        .ok();
    says(&existing, "`envsync pull` fetches version 2");
}
