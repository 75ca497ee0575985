//! Membership and keys, with teammates sharing one folder remote through the real binary:
//! asking for access, accepting, removing (re-encryption), roles, new signing keys, and the
//! masked diff and conflict prompts they meet on the way.

mod support;

use support::remotes::alice_and_bob;
use support::{Team, numbered_records, signal, spawn_until};

#[test]
fn a_teammate_asks_for_access_and_gets_the_exact_file_once_accepted() {
    let team = Team::new();
    let alice = team.member("alice");
    let bob = team.member("bob");
    let text = "# database\nDB_URL=postgres://localhost/app\nexport API_KEY='alpha 123' # inline\n\nEMPTY=\n";
    alice.write_env(".env", text);
    let pushed = alice
        .run(&["push", "-m", "first", "--json"])
        .ok()
        .document("Pushed");
    assert_eq!(pushed["version"], 1);

    let refused = bob.run(&["pull"]).code(5);
    assert!(
        refused.stderr.contains("not a member of project `app`"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("envsync members accept"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1 + refused.stderr.matches("note:").count()
    );

    let status = alice.run(&["status"]).ok();
    assert!(
        status.stdout.contains("1 member waiting for access: bob"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains(&format!("envsync members accept {}", bob.fingerprint()))
    );

    alice.run(&["members", "accept", "bob"]).ok();
    bob.run(&["pull"]).ok();
    // The file's mode (0600) is checked for every remote in every_remote.rs.
    assert_eq!(bob.read_env(".env"), text);
    assert_eq!(bob.badge("development"), "synced");
    assert_eq!(alice.badge("development"), "synced");
}

#[test]
fn diff_masks_values_unless_asked() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\nB=secret-b\n");
    alice.run(&["push"]).ok();
    alice.write_env(".env", "A=1\nB=secret-b2\nC=new\n");
    let masked = alice.run(&["diff"]).ok();
    assert!(
        masked.stdout.contains("~ B") && masked.stdout.contains("+ C"),
        "{}",
        masked.stdout
    );
    assert!(!masked.stdout.contains("secret"));
    let shown = alice.run(&["diff", "--show-values"]).ok();
    assert!(
        shown.stdout.contains("secret-b -> secret-b2"),
        "{}",
        shown.stdout
    );

    alice.write_env(".env.staging", "A=1\nD=4\n");
    let between = alice
        .run(&["diff", "development", "staging", "--json"])
        .ok()
        .document("Diff");
    let changes = between["changes"].as_array().unwrap();
    let kinds: Vec<_> = changes
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["change"].as_str().unwrap(),
                c["key"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(kinds, ["added:D", "removed:B", "removed:C"]);
}

#[test]
fn removing_a_member_reencrypts_without_them_and_names_keys_to_rotate() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let linked = alice.workspace.join(".env");
    let (inode, head) = (inode_of(&linked), alice.head_version("development"));
    let removed = alice.run(&["members", "remove", "bob", "--json"]).ok();
    // Alice's clean file already holds the re-encrypted version's content: only her base
    // moves, and the file is left as it is (no rewrite to wake what watches it).
    let row = alice.status_row("development");
    assert_eq!(
        (&row["badge"], &row["local_version"]),
        (&"synced".into(), &(head + 1).into())
    );
    assert_eq!(inode_of(&linked), inode, "the linked file was rewritten");
    // A removal that finishes re-encrypts every head: nothing is left to warn about.
    assert!(
        !removed.stderr.contains("still encrypted"),
        "{}",
        removed.stderr
    );
    let status = alice.run(&["status"]).ok();
    assert!(
        !status.stderr.contains("still encrypted"),
        "{}",
        status.stderr
    );
    let removal = removed.document("Removed");
    assert_eq!(
        removal["exposed"]["development"],
        serde_json::json!(["DB_URL", "API_KEY"])
    );
    alice.write_env(".env", "DB_URL=rotated\nAPI_KEY=rotated\n");
    alice.run(&["push", "-m", "rotate"]).ok();
    let refused = bob.run(&["pull"]).code(5);
    assert!(
        refused
            .stderr
            .contains("you were removed from project `app` by alice"),
        "{}",
        refused.stderr
    );
    assert!(!bob.read_env(".env").contains("rotated"));
    bob.write_env(".env", "DB_URL=evil\n");
    // Told he was removed (exit 5) before anything about the remote's head.
    let refused = bob.run(&["push"]).code(5);
    assert!(
        refused.stderr.contains("you were removed"),
        "{}",
        refused.stderr
    );
}

#[test]
fn readers_cannot_push_and_a_new_key_must_be_accepted_before_encrypting_to_it() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let carol = team.member("carol");
    alice
        .run(&[
            "members",
            "add",
            &carol.member_key(),
            "--name",
            "carol",
            "--role",
            "reader",
        ])
        .ok();
    carol.run(&["pull"]).ok();
    carol.write_env(".env", "DB_URL=carol\n");
    let refused = carol.run(&["push"]).code(5);
    assert!(refused.stderr.contains("reader"), "{}", refused.stderr);

    bob.write_env(".env", "DB_URL=bob\n");
    bob.run(&["push"]).code(3);
    let pending = bob.run(&["sync"]).code(5);
    assert!(pending.stderr.contains("carol"), "{}", pending.stderr);
    let status = bob.run(&["status"]).ok();
    assert!(
        status.stdout.contains("1 member waiting for access: carol"),
        "{}",
        status.stdout
    );
    bob.run(&["sync", "--yes"]).ok();
    carol.run(&["pull", "--force"]).ok();
    assert_eq!(carol.read_env(".env"), "DB_URL=bob\n");
}

#[test]
fn on_a_terminal_sync_asks_about_each_conflict() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    bob.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=bob-key\n",
    );
    bob.run(&["push"]).ok();
    alice.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=alice-key\n",
    );
    // `script` gives envsync a real terminal; the answers go through it: view, then edit.
    let binary = env!("CARGO_BIN_EXE_envsync");
    let mut child = alice
        .program("script", &["-qec", &format!("{binary} sync"), "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` is installed");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"v\ne\nmerged-key\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{screen}");
    assert!(
        screen.contains("conflict: API_KEY") && screen.contains("theirs: bob-key"),
        "{screen}"
    );
    assert!(alice.read_env(".env").contains("API_KEY=merged-key"));
    bob.run(&["pull"]).ok();
    assert!(bob.read_env(".env").contains("API_KEY=merged-key"));
}

#[test]
fn a_version_signed_by_a_key_new_to_you_waits_for_your_acceptance_or_yes() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let carol = team.member("carol");
    carol.run(&["pull"]).code(5);
    alice.run(&["members", "accept", &carol.fingerprint()]).ok();
    carol.run(&["pull"]).ok();
    carol.write_env(".env", "DB_URL=postgres://carol/app\n");
    carol.run(&["push"]).ok();

    let refused = bob.run(&["pull"]).code(5);
    assert!(
        refused.stderr.contains("signed by carol") && refused.stderr.contains("not accepted yet"),
        "{}",
        refused.stderr
    );
    assert!(!bob.read_env(".env").contains("carol"));
    let accepted = bob.run(&["pull", "--yes"]).ok();
    assert!(
        accepted
            .stderr
            .contains("accepted 1 new member key(s) (--yes): carol"),
        "{}",
        accepted.stderr
    );
    assert_eq!(bob.read_env(".env"), "DB_URL=postgres://carol/app\n");
    bob.run(&["pull"]).ok();
}

fn inode_of(path: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap())
}

/// A re-encryption starts from the heads its command verified moments before, without
/// reading them again. A push landing in between takes the new version's number: the
/// re-encryption must then start again from the head as it is now, never give up on it nor
/// write over it. Alice's `members add` is stopped (SIGSTOP) the moment its membership
/// entry appears, before it writes any version; Bob pushes; Alice goes on.
#[test]
fn a_push_between_a_membership_change_and_its_reencryption_is_kept() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let versions = team.remote.join("app/environments/development/versions");
    let (carol, added) = (1..=20)
        .find_map(|attempt| {
            let carol = team.member(&format!("carol{attempt}"));
            let head = numbered_records(&versions);
            let child = stopped_once_entry_appears(&team, &alice, &carol);
            if numbered_records(&versions) != head {
                // Too late: it had re-encrypted already. Let it finish; try again.
                assert!(signal(&child, "-CONT"));
                assert!(child.wait_with_output().unwrap().status.success());
                return None;
            }
            bob.write_env(".env", &format!("RACED={attempt}\n"));
            bob.run(&["sync", "--yes"]).ok();
            assert!(signal(&child, "-CONT"));
            Some((carol, child.wait_with_output().unwrap()))
        })
        .expect("one of 20 runs of members add was stopped before its re-encryption");
    let stderr = String::from_utf8_lossy(&added.stderr);
    assert!(added.status.success(), "{stderr}");
    assert!(!stderr.contains("could not re-encrypt"), "{stderr}");
    // Bob's version is the head, kept as he pushed it (he encrypted it to Carol, whom his
    // sync trusted): Alice's retry, from the head as it is now, found nothing to do.
    let log = bob.run(&["log"]).ok().stdout;
    assert!(log.lines().next().unwrap().contains("bob ("), "{log}");
    carol.run(&["pull"]).ok();
    assert!(carol.read_env(".env").starts_with("RACED="));
    assert_eq!(carol.read_env(".env"), bob.read_env(".env"));
}

/// Starts `who`'s `members add` of `newcomer` and stops it (SIGSTOP) once the project's
/// membership log on the folder remote has one more entry.
fn stopped_once_entry_appears(
    team: &Team,
    who: &support::Teammate,
    newcomer: &support::Teammate,
) -> std::process::Child {
    let members = team.remote.join("app/members");
    let before = numbered_records(&members);
    let key = newcomer.member_key();
    let mut command = who.command(&["members", "add", &key, "--name", &newcomer.name, "--yes"]);
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = spawn_until(&mut command, || numbered_records(&members) != before)
        .expect("members add exited before its membership entry appeared");
    assert!(signal(&child, "-STOP"));
    child
}
