//! The remote is untrusted: anything it forges, reorders or corrupts in a folder remote must
//! be refused. That no remote holds plaintext is a scenario of every remote (every_remote.rs).

mod support;

use std::path::PathBuf;

use support::remotes::alice_and_bob;
use support::{Team, ciphertext_sha256};

#[test]
fn a_tampered_record_is_refused() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "A=3\n");
    alice.run(&["push", "-m", "three"]).ok();
    let path = version_path(&team, 3);
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, original.replace("\"three\"", "\"innocent\"")).unwrap();
    let refused = bob.run(&["pull"]).code(6);
    assert!(
        refused.stderr.contains("signature does not verify"),
        "{}",
        refused.stderr
    );
    bob.run(&["log"]).code(6);
    assert!(!bob.read_env(".env").contains("A=3"));
}

#[test]
fn a_version_forged_by_an_outsider_is_refused() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    // Mallory has write access to the folder and a valid key, but is no member.
    let mallory = team.member("mallory");
    let forged_remote = team.root.path().join("forge");
    std::fs::create_dir_all(&forged_remote).unwrap();
    let config = std::fs::read_to_string(mallory.workspace.join("envsync.toml")).unwrap();
    std::fs::write(
        mallory.workspace.join("envsync.toml"),
        config.replace(
            team.remote.to_str().unwrap(),
            forged_remote.to_str().unwrap(),
        ),
    )
    .unwrap();
    // In her own copy she signs versions until one carries the real remote's next number.
    let next = std::fs::read_dir(team.remote_path("app/environments/development/versions"))
        .unwrap()
        .count() as u64
        + 1;
    for round in 1..=next {
        mallory.write_env(".env", &format!("A=1\nB=evil-{round}\n"));
        mallory.run(&["push"]).ok();
    }
    let name = format!("{next:08}.json");
    let forged_record = std::fs::read_to_string(
        forged_remote
            .join("app/environments/development/versions")
            .join(&name),
    )
    .unwrap();
    let sha = ciphertext_sha256(forged_record.as_bytes());
    std::fs::copy(
        forged_remote.join(format!("app/environments/development/objects/{sha}.age")),
        team.remote_path(&format!("app/environments/development/objects/{sha}.age")),
    )
    .unwrap();
    std::fs::write(version_path(&team, next), forged_record).unwrap();
    // Refused on the first thing that gives it away: made under a membership entry that
    // is not this project's, signed by a key that is no member.
    let refused = bob.run(&["pull"]).code(6);
    assert!(
        refused.stderr.contains("membership entry 1 that differs")
            || refused.stderr.contains("not a member"),
        "{}",
        refused.stderr
    );
    assert!(!bob.read_env(".env").contains("evil"));
    alice.run(&["log"]).code(6);
}

#[test]
fn reordered_history_and_corrupt_blobs_are_refused() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "A=3\n");
    alice.run(&["push"]).ok();
    alice.write_env(".env", "A=4\n");
    alice.run(&["push"]).ok();
    // Swap versions 3 and 4: each record's number no longer matches its place.
    let (three, four) = (version_path(&team, 3), version_path(&team, 4));
    let (a, b) = (
        std::fs::read(&three).unwrap(),
        std::fs::read(&four).unwrap(),
    );
    std::fs::write(&three, &b).unwrap();
    std::fs::write(&four, &a).unwrap();
    bob.run(&["pull"]).code(6);
    std::fs::write(&three, &a).unwrap();
    std::fs::write(&four, &b).unwrap();

    let object = newest_object(&team);
    let mut bytes = std::fs::read(&object).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&object, &bytes).unwrap();
    let refused = bob.run(&["pull"]).code(6);
    assert!(refused.stderr.contains("corrupt"), "{}", refused.stderr);
    assert!(!bob.read_env(".env").contains("A=4"));
}

#[test]
fn a_forged_membership_entry_is_refused() {
    let team = Team::new();
    let (_alice, bob) = alice_and_bob(&team);
    let entry = team.remote_path("app/members/00000002.json");
    let text = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(&entry, text.replace("\"writer\"", "\"owner\"")).unwrap();
    let refused = bob.run(&["status"]).code(6);
    assert!(
        refused.stderr.contains("membership log"),
        "{}",
        refused.stderr
    );
}

fn version_path(team: &Team, number: u64) -> PathBuf {
    team.remote_path(&format!(
        "app/environments/development/versions/{number:08}.json"
    ))
}
/// The ciphertext named by the newest version record of app/development.
fn newest_object(team: &Team) -> PathBuf {
    let versions = team.remote_path("app/environments/development/versions");
    let mut names: Vec<_> = std::fs::read_dir(&versions)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    let sha = ciphertext_sha256(&std::fs::read(names.last().unwrap()).unwrap());
    team.remote_path(&format!("app/environments/development/objects/{sha}.age"))
}
