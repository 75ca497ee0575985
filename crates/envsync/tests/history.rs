//! History only moves forward, removal is final, and a role belongs to its time: the attacks
//! of the security review (issue 11) against a folder remote and a bucket, each reproduced
//! with the real binary and refused.

mod support;

use std::path::{Path, PathBuf};

use support::bucket::BucketTeam;
use support::remotes::alice_and_bob;
use support::{Team, Teammate, ciphertext_sha256};

const DEV: &str = "app/environments/development";

fn version_path(team: &Team, number: u64) -> PathBuf {
    team.remote_path(&format!("{DEV}/versions/{number:08}.json"))
}

fn newest_file(directory: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    files.pop().unwrap()
}

/// Alice (owner), Bob and Mallory (writers), all having pulled the first version.
fn team_of_three(team: &Team) -> (Teammate, Teammate, Teammate) {
    let (alice, bob) = alice_and_bob(team);
    let mallory = team.member("mallory");
    mallory.run(&["pull"]).code(5);
    alice
        .run(&["members", "accept", &mallory.fingerprint()])
        .ok();
    mallory.run(&["pull"]).ok();
    bob.run(&["members", "accept", &mallory.fingerprint()]).ok();
    (alice, bob, mallory)
}

/// Another machine of `mate`: the same identity in a new HOME, a fresh clone, and no memory
/// of anything verified.
fn new_machine(team: &Team, mate: &Teammate, name: &str) -> Teammate {
    let home = team.root.path().join("homes").join(name);
    let config = home.join(".config/envsync");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::copy(mate.identity_file(), config.join("identity.txt")).unwrap();
    let workspace = team.root.path().join(format!("clone-{name}"));
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::copy(
        mate.workspace.join("envsync.toml"),
        workspace.join("envsync.toml"),
    )
    .unwrap();
    Teammate {
        name: name.to_owned(),
        home,
        workspace,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Points `mate`'s clone at another folder.
fn repoint(mate: &Teammate, from: &Path, to: &Path) {
    let path = mate.workspace.join("envsync.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        config.replace(from.to_str().unwrap(), to.to_str().unwrap()),
    )
    .unwrap();
}

#[track_caller]
fn refused_with(run: &support::Run, needle: &str) {
    assert!(
        run.stderr.contains(needle),
        "expected `{needle}` in: {}",
        run.stderr
    );
}

/// Item 2: deleting the removal from the membership log re-admitted the removed member.
#[test]
fn cutting_the_removal_off_the_membership_log_is_refused() {
    let team = Team::new();
    let (alice, bob, mallory) = team_of_three(&team);
    alice.run(&["members", "remove", "mallory"]).ok();
    bob.run(&["pull"]).ok();
    std::fs::remove_file(newest_file(&team.remote_path("app/members"))).unwrap();

    alice.write_env(".env", "NEW_SECRET=after-removal\n");
    let push = alice.run(&["push"]).code(6);
    refused_with(&push, "membership log of project `app` went back");
    refused_with(&bob.run(&["pull"]), "went back");
    // Mallory cannot read on: nothing new was encrypted to her.
    let forced = mallory.run(&["pull", "--force"]);
    assert_ne!(forced.code, 0, "{}", forced.stderr);
    assert!(!mallory.read_env(".env").contains("after-removal"));
    // A machine that has seen nothing still sees that the head names a later entry.
    let fresh = new_machine(&team, &bob, "bob-laptop");
    let pulled = fresh.run(&["pull"]).code(6);
    refused_with(&pulled, "entries were removed");
    // Had the folder been restored from a backup, whoever saw the removal puts it back.
    let repaired = alice.run(&["repair"]).ok();
    refused_with(&repaired, "put back membership entries 4");
    bob.run(&["pull"]).ok();
    fresh.run(&["pull"]).ok();
    alice.run(&["push"]).ok();
    mallory.run(&["pull", "--force"]).code(5);
}

/// Item 3: deleting the newest version rolled everyone back to the one before.
#[test]
fn deleting_the_newest_version_is_refused_by_every_command() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "A=new-secret\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    std::fs::remove_file(version_path(&team, 3)).unwrap();

    for args in [
        &["pull"][..],
        &["status"],
        &["sync"],
        &["log"],
        &["run", "--remote", "--", "true"],
        &["export", "--remote"],
    ] {
        let run = bob.run(args).code(6);
        refused_with(&run, "went back");
        refused_with(&run, "envsync repair");
    }
    assert_eq!(bob.read_env(".env"), "A=new-secret\n");
    // Forgetting the workspace's state, or cloning again, forgets nothing.
    std::fs::remove_dir_all(bob.workspace.join(".envsync")).unwrap();
    refused_with(
        &bob.run(&["pull", "--force"]).code(6),
        "this machine verified on",
    );
    let reclone = Teammate {
        name: "bob".into(),
        home: bob.home.clone(),
        workspace: team.root.path().join("clone-bob-again"),
    };
    copy_dir(&bob.workspace, &reclone.workspace);
    reclone.run(&["pull"]).code(6);
    // A remote restored from an older backup: Bob, who verified version 3, puts it back.
    refused_with(&bob.run(&["repair"]).ok(), "put back versions 3");
    alice.run(&["pull"]).ok();
    reclone.run(&["pull", "--force"]).ok();
    assert_eq!(reclone.read_env(".env"), "A=new-secret\n");
}

/// Item 4: a removed member re-signed an old version and deleted the newer ones.
#[test]
fn a_removed_member_cannot_rewrite_history() {
    let team = Team::new();
    let (alice, bob, mallory) = team_of_three(&team);
    mallory.write_env(".env", "A=mallory\n");
    mallory.run(&["push"]).ok();
    // Mallory keeps a copy of the folder as it is now (version 2, hers).
    let stale = team.root.path().join("stale");
    copy_dir(&team.remote, &stale);
    alice.run(&["pull"]).ok();
    alice.write_env(".env", "A=alice\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    alice.run(&["members", "remove", "mallory"]).ok();
    bob.run(&["pull"]).ok();

    // In her copy, where she is still a member, she signs her own next version and puts it
    // in place of Alice's; the versions after it go.
    repoint(&mallory, &team.remote, &stale);
    mallory.write_env(".env", "NODE_OPTIONS=--require=./evil.js\n");
    mallory.run(&["push"]).ok();
    let number = plant_newest(&team, &stale);
    for later in number + 1..=number + 5 {
        let _ = std::fs::remove_file(version_path(&team, later));
    }

    refused_with(&alice.run(&["pull"]).code(6), "went back");
    refused_with(&bob.run(&["pull"]).code(6), "went back");
    // A machine that saw nothing: the removal pinned the digest of the version she replaced.
    let fresh = new_machine(&team, &bob, "bob-fresh");
    let pulled = fresh.run(&["pull"]).code(6);
    refused_with(
        &pulled,
        "not the record the project's membership log pinned",
    );
    assert!(!fresh.workspace.join(".env").exists());
}

/// Item 5: `members accept NAME` accepted a stranger who took the same name.
#[test]
fn accepting_a_name_that_two_keys_share_is_refused() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\n");
    alice.run(&["push"]).ok();
    let bob = team.member("bob");
    bob.run(&["pull"]).code(5);
    let stranger = team.member("stranger");
    stranger.run(&["keygen", "--force", "--name", "bob"]).ok();
    stranger.run(&["pull"]).code(5);

    let refused = alice.run(&["members", "accept", "bob"]).code(2);
    refused_with(&refused, &bob.fingerprint());
    refused_with(&refused, &stranger.fingerprint());
    let accepted = alice.run(&["members", "accept", &bob.fingerprint()]).ok();
    refused_with(&accepted, "about to admit bob");
    refused_with(&accepted, "writer on every environment");
    bob.run(&["pull"]).ok();
    stranger.run(&["pull"]).code(5);
}

/// Item 7 on a folder: a writer's garbage version jammed the environment for everyone; an
/// owner now supersedes it and everyone moves on.
#[test]
fn an_owner_supersedes_a_version_that_jams_the_environment() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let good = std::fs::read_to_string(version_path(&team, 2)).unwrap();
    let garbage = good.replace("\"number\": 2", "\"number\": 3");
    std::fs::write(version_path(&team, 3), garbage).unwrap();

    let refused = bob.run(&["pull"]).code(6);
    refused_with(&refused, "envsync rollback 2 --supersede");
    bob.run(&["rollback", "2", "--supersede"]).code(5);
    alice.run(&["rollback", "2", "--supersede"]).ok();
    bob.run(&["pull"]).ok();
    let log = bob.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log[0]["version"], 4);
    assert_eq!(log[0]["supersedes"], serde_json::json!([3]));
    assert_eq!(log[1]["version"], 2);
    bob.write_env(".env", "A=moving-again\n");
    bob.run(&["push"]).ok();
    alice.run(&["pull"]).ok();
    assert_eq!(alice.read_env(".env"), "A=moving-again\n");
}

/// Item 8: after a writer was demoted, their old versions broke the log.
#[test]
fn a_version_is_judged_by_its_authors_role_at_the_time() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    bob.write_env(".env", "A=by-bob\n");
    bob.run(&["push"]).ok();
    let key = bob.member_key();
    alice.run(&["members", "remove", "bob"]).ok();
    alice
        .run(&["members", "add", &key, "--name", "bob", "--role", "reader"])
        .ok();
    alice.run(&["log"]).ok();
    bob.run(&["log"]).ok();
    bob.run(&["pull"]).ok();
    bob.write_env(".env", "A=reader-writes\n");
    bob.run(&["push"]).code(5);
}

/// Item 10: `log` printed the name a signer wrote into their own record.
#[test]
fn log_names_the_key_as_the_membership_log_does() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\n");
    alice.run(&["push"]).ok();
    let bob = team.member("bob");
    bob.run(&["keygen", "--force", "--name", "alice@ex.com"])
        .ok();
    let key = bob.member_key();
    alice
        .run(&["members", "add", &key, "--name", "bob@ex.com"])
        .ok();
    bob.run(&["pull"]).ok();
    bob.write_env(".env", "A=2\n");
    bob.run(&["push"]).ok();
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log[0]["author"], "bob@ex.com");
}

/// Item 10: `status` said "synced" over a tampered head.
#[test]
fn status_verifies_the_head_it_reports() {
    let team = Team::new();
    let (_alice, bob) = alice_and_bob(&team);
    let path = version_path(&team, 2);
    let record = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, record.replace("\"grant access", "\"innocent grant")).unwrap();
    refused_with(&bob.run(&["status"]).code(6), "was rewritten");
    bob.run(&["status", "--json"]).code(6);
    let fresh = new_machine(&team, &bob, "bob-fresh");
    refused_with(&fresh.run(&["status"]).code(6), "signature does not verify");
}

/// Issue 19: a machine does not re-check the signature of the head its ledger pins (the
/// digest of every signed byte is the same), so only the signature bytes could differ
/// unnoticed there, and they say nothing the verified body did not. Any other machine still
/// checks it, and any change to a signed byte is still refused everywhere.
#[test]
fn a_head_signature_is_checked_wherever_the_record_was_not_verified_before() {
    let team = Team::new();
    let (_alice, bob) = alice_and_bob(&team);
    let path = version_path(&team, 2);
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let signature = record["signature"].as_str().unwrap().to_owned();
    let forged = format!(
        "{}{}",
        if signature.starts_with('A') { "B" } else { "A" },
        &signature[1..]
    );
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&signature, &forged)).unwrap();
    assert_eq!(bob.badge("development"), "synced");
    let fresh = new_machine(&team, &bob, "bob-fresh");
    refused_with(&fresh.run(&["status"]).code(6), "signature does not verify");
    refused_with(&fresh.run(&["pull"]).code(6), "signature does not verify");
}

/// Issue 19: `run --remote`, now replacing itself through one `execve`, still verifies the
/// head first: over a tampered head the command never starts, on a machine that saw the
/// record and on a fresh one.
#[test]
fn run_from_a_tampered_head_never_starts_the_command() {
    let team = Team::new();
    let (_alice, bob) = alice_and_bob(&team);
    let path = version_path(&team, 2);
    let record = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, record.replace("\"grant access", "\"innocent grant")).unwrap();
    let command = ["run", "--remote", "--", "sh", "-c", "echo started"];
    let seen = bob.run(&command).code(6);
    refused_with(&seen, "was rewritten");
    assert!(!seen.stdout.contains("started"), "{}", seen.stdout);
    let fresh = new_machine(&team, &bob, "bob-fresh");
    let first = fresh.run(&command).code(6);
    refused_with(&first, "signature does not verify");
    assert!(!first.stdout.contains("started"), "{}", first.stdout);
}

/// An accept stopped after the remote took its membership entry but before this machine
/// trusted the key and re-encrypted the heads (a kill; found by `tests/crash.rs`): running
/// the accept again trusts the key *and* re-encrypts, so the member can pull. It used to
/// stop at trusting the key and say it was done.
#[test]
fn an_accept_stopped_before_trusting_the_key_is_finished_by_running_it_again() {
    let team = Team::new();
    let (alice, _bob) = alice_and_bob(&team);
    let dave = team.member("dave");
    dave.run(&["pull"]).code(5);
    // The heads' ciphertexts cannot be read: the entry is written, the re-encryption is not.
    let objects = Blocked::directory(team.remote_path(&format!("{DEV}/objects")));
    let stopped = alice.run(&["members", "accept", &dave.fingerprint()]);
    assert!(
        stopped.stderr.contains("could not re-encrypt"),
        "{}",
        stopped.stderr
    );
    objects.restore();
    // ...and as if killed before it trusted the key: this machine's trust forgets dave.
    let trust_path = alice.workspace.join(".envsync/app/trust.json");
    let mut trust: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trust_path).unwrap()).unwrap();
    let dave_key = dave.member_key();
    trust["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|entry| entry["key"] != dave_key.as_str());
    std::fs::write(&trust_path, trust.to_string()).unwrap();
    dave.run(&["pull"]).code(5);

    alice.run(&["members", "accept", &dave.fingerprint()]).ok();
    dave.run(&["pull"]).ok();
}

/// A removal that could not re-encrypt a head names the command that finishes it, `repair`,
/// which any writer may run; it used to name `members accept`, which does not.
#[test]
fn a_removal_that_could_not_re_encrypt_a_head_names_repair() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let objects = Blocked::directory(team.remote_path(&format!("{DEV}/objects")));
    let stopped = alice.run(&["members", "remove", &bob.fingerprint()]);
    let stderr = &stopped.stderr;
    assert!(
        stderr.contains("could not re-encrypt app/development"),
        "{stderr}"
    );
    assert!(stderr.contains("`envsync repair -p app`"), "{stderr}");
    assert!(!stderr.contains("members accept"), "{stderr}");
    objects.restore();
    let before = alice.run(&["status"]).ok();
    assert!(
        before.stderr.contains("still encrypted to bob"),
        "{}",
        before.stderr
    );
    alice.run(&["repair", "-p", "app"]).ok();
    let after = alice.run(&["status"]).ok();
    assert!(
        !after.stderr.contains("still encrypted"),
        "{}",
        after.stderr
    );
}

/// Issue 19: a membership change writes this machine's copies of its new versions on a
/// second thread. One it cannot write is said, and the removal's own report (what to
/// rotate) still comes; the next command keeps the copy once the disk lets it.
#[test]
fn a_removal_whose_local_copies_cannot_be_kept_still_says_what_to_rotate() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let ledger = alice.home.join(".local/state");
    let head = find_file(&ledger, "head.json").expect("alice's ledger pins the head");
    // Only a new version is written there: the verified head's copy is kept already.
    let blocked = Blocked::directory(head.with_file_name("versions"));
    let removed = alice.run(&["members", "remove", &bob.fingerprint()]).ok();
    assert!(
        removed.stderr.contains("rotate these secrets"),
        "{}",
        removed.stderr
    );
    assert!(
        removed.stderr.contains("could not keep its copies")
            && removed.stderr.contains(&blocked.path.display().to_string()),
        "{}",
        removed.stderr
    );
    assert!(
        !removed.stderr.contains("could not re-encrypt"),
        "{}",
        removed.stderr
    );
    let versions = blocked.restore();
    let kept = std::fs::read_dir(&versions).unwrap().count();
    alice.run(&["pull"]).ok();
    assert_eq!(std::fs::read_dir(&versions).unwrap().count(), kept + 1);
    bob.run(&["pull"]).code(5);
}

/// Issue 19: the workspace's base is the ledger's copy of the same version, not a second
/// one: `base.age` and `base.json` are hard links to the ledger's ciphertext and record,
/// after a push, a pull, and a membership change's re-encryption alike.
#[test]
fn the_workspace_base_is_the_ledgers_copy_of_the_version() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    assert_base_shared(&alice, "after a push");
    assert_base_shared(&bob, "after a pull");
    alice.run(&["members", "remove", &bob.fingerprint()]).ok();
    assert_base_shared(&alice, "after a re-encryption");
}

/// Both base files of `mate`'s one environment are files of its ledger too.
fn assert_base_shared(mate: &Teammate, when: &str) {
    use std::os::unix::fs::MetadataExt;
    let ledger = mate.home.join(".local/state");
    for name in ["base.age", "base.json"] {
        let base = find_file(&mate.workspace.join(".envsync"), name).expect("a base");
        let inode = std::fs::metadata(&base).unwrap().ino();
        assert!(
            find_where(&ledger, &|_, metadata| metadata.ino() == inode).is_some(),
            "{}'s {name} {when}: not the ledger's copy",
            mate.name
        );
    }
}

/// Item 10: an old access request put back re-asked for a removed member.
#[test]
fn a_replayed_access_request_is_ignored() {
    let team = Team::new();
    let (alice, _bob) = alice_and_bob(&team);
    let mallory = team.member("mallory");
    mallory.run(&["pull"]).code(5);
    let requests = team.remote_path("app/requests");
    let request = newest_file(&requests);
    let saved = std::fs::read(&request).unwrap();
    alice
        .run(&["members", "accept", &mallory.fingerprint()])
        .ok();
    alice
        .run(&["members", "remove", &mallory.fingerprint()])
        .ok();
    std::fs::write(&request, saved).unwrap();
    let status = alice.run(&["status", "--json"]).ok().document("Status");
    assert_eq!(status["pending_members"], serde_json::json!([]), "{status}");
    alice
        .run(&["members", "accept", &mallory.fingerprint()])
        .code(2);
}

/// Item 12: removing a member from a clone that links only some environments.
#[test]
fn removal_from_a_partial_clone_covers_every_environment() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let carol = team.member("carol");
    carol.run(&["pull"]).code(5);
    alice.run(&["members", "accept", "carol"]).ok();
    alice.write_env(".env.staging", "STAGING=secret\n");
    alice.run(&["push", "--env", "staging"]).ok();
    bob.run(&["pull", "--env", "staging"]).ok();

    // Alice's second clone links development only.
    let partial = Teammate {
        name: "alice".into(),
        home: alice.home.clone(),
        workspace: team.root.path().join("clone-alice-partial"),
    };
    std::fs::create_dir_all(&partial.workspace).unwrap();
    let config = std::fs::read_to_string(alice.workspace.join("envsync.toml")).unwrap();
    let config = config.replace("staging = \".env.staging\"\n", "");
    std::fs::write(partial.workspace.join("envsync.toml"), config).unwrap();
    partial.run(&["members", "remove", "bob"]).ok();

    carol.run(&["pull", "--env", "staging"]).ok();
    assert_eq!(carol.read_env(".env.staging"), "STAGING=secret\n");
    alice.run(&["pull", "--env", "staging"]).ok();
    let staging = std::fs::read_to_string(newest_file(
        &team.remote_path("app/environments/staging/versions"),
    ))
    .unwrap();
    assert!(
        !staging.contains(&bob.member_key()),
        "bob is still a recipient"
    );
}

/// Item 13: a removed member's push that raced the removal lands after the head it
/// pinned. Every reader refuses it (it used to jam the environment for everyone), and an
/// owner's supersede moves the environment on.
#[test]
fn a_version_pushed_after_the_removal_pinned_the_head_is_refused() {
    let team = Team::new();
    let (alice, bob, mallory) = team_of_three(&team);
    let stale = team.root.path().join("stale");
    copy_dir(&team.remote, &stale);
    alice.run(&["members", "remove", "mallory"]).ok();
    // The race's outcome: Mallory's version took the number the re-encryption wanted.
    std::fs::remove_file(version_path(&team, 4)).unwrap();
    repoint(&mallory, &team.remote, &stale);
    mallory.write_env(".env", "EVIL=1\n");
    mallory.run(&["push"]).ok();
    assert_eq!(plant_newest(&team, &stale), 4);

    let reader = new_machine(&team, &bob, "bob-fresh");
    let refused = reader.run(&["pull"]).code(6);
    refused_with(&refused, "lost write access");
    refused_with(&refused, "--supersede");
    let owner = new_machine(&team, &alice, "alice-fresh");
    owner.run(&["rollback", "3", "--supersede"]).ok();
    reader.run(&["pull"]).ok();
    assert!(!reader.read_env(".env").contains("EVIL"));
}

/// Copies the newest version in `stale` (and its ciphertext) into the team's folder at its
/// number, replacing what is there; returns the number.
fn plant_newest(team: &Team, stale: &Path) -> u64 {
    let path = newest_file(&stale.join(format!("{DEV}/versions")));
    let forged = std::fs::read(&path).unwrap();
    let sha = ciphertext_sha256(&forged);
    std::fs::copy(
        stale.join(format!("{DEV}/objects/{sha}.age")),
        team.remote_path(&format!("{DEV}/objects/{sha}.age")),
    )
    .unwrap();
    let number: u64 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    std::fs::write(version_path(team, number), forged).unwrap();
    number
}

/// Item 11: a writer with plain PutObject rights replaced a version on a bucket.
#[test]
fn a_bucket_version_replaced_in_place_is_refused() {
    let bucket = BucketTeam::new();
    let (alice, bob) = alice_and_bob(&bucket);
    let mallory = bucket.member("mallory");
    mallory.run(&["pull"]).code(5);
    alice
        .run(&["members", "accept", &mallory.fingerprint()])
        .ok();
    mallory.run(&["pull"]).ok();
    alice.write_env(".env", "A=alice-3\n");
    alice.run(&["push"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.badge("development"), "synced");

    // Mallory deletes version 4 and pushes her own in its place: a validly signed record.
    bucket
        .server
        .delete_object(&bucket.bucket, &bucket.version_key(4));
    mallory.write_env(".env", "A=mallory-4\n");
    mallory.run(&["push"]).ok();
    refused_with(&bob.run(&["status"]).code(6), "was rewritten");
    refused_with(&bob.run(&["pull"]).code(6), "was rewritten");
    assert_eq!(bob.read_env(".env"), "A=alice-3\n");
}

/// Item 17: an orphan far-ahead version with a `head` hint made `status` report it; anyone
/// with PutObject could jam the environment so. Now it is refused, and an owner's supersede
/// moves everyone on.
#[test]
fn an_orphan_version_far_ahead_in_a_bucket_is_refused_and_superseded() {
    let bucket = BucketTeam::new();
    let (alice, bob) = alice_and_bob(&bucket);
    let copy = bucket.object("environments/development/versions/00000002.json");
    bucket.put("environments/development/versions/00001000.json", &copy);
    bucket.put("environments/development/head", b"1000\n");
    misplaced_until_superseded(&alice, &bob);
}

/// Bob's status refuses the orphan version 1000 as misplaced, naming the supersede that gets
/// past it; once Alice (an owner) runs it, Bob pulls and is in sync again.
fn misplaced_until_superseded(alice: &Teammate, bob: &Teammate) {
    let refused = bob.run(&["status"]).code(6);
    refused_with(&refused, "misplaced");
    refused_with(&refused, "`envsync rollback 2 --supersede`");
    alice.run(&["rollback", "2", "--supersede"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.badge("development"), "synced");
}

/// The folder remote finds its head from the same kind of hint as a bucket (a listing grew
/// with the history), so the same jam is refused and superseded there; and a hint pointing
/// below the real head, or at garbage, still finds the newest version.
#[test]
fn a_folder_head_hint_is_only_a_hint() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let hint = team.remote_path(&format!("{DEV}/head"));
    assert_eq!(std::fs::read_to_string(&hint).unwrap(), "2\n");
    for wrong in ["1\n", "", "garbage", "99999999999999999999999"] {
        std::fs::write(&hint, wrong).unwrap();
        assert_eq!(bob.badge("development"), "synced", "hint {wrong:?}");
    }
    std::fs::remove_file(&hint).unwrap();
    assert_eq!(bob.badge("development"), "synced");

    std::fs::copy(version_path(&team, 2), version_path(&team, 1000)).unwrap();
    std::fs::write(&hint, "1000\n").unwrap();
    misplaced_until_superseded(&alice, &bob);
}

/// Issue 19: a machine keeps the membership log folded up to the entry its ledger pins and
/// reads only the entries from that one on. What is new is verified in full; a damaged
/// snapshot is no snapshot; a changed pinned entry is refused as before; and a machine
/// without the snapshot still reads and verifies the whole log.
#[test]
fn the_membership_log_is_read_from_the_entry_this_machine_verified() {
    let team = Team::new();
    let (alice, bob) = alice_and_bob(&team);
    let snapshot = find_file(&bob.home, "roster.json").expect("bob's ledger keeps the fold");
    let carol = team.member("carol");
    carol.run(&["pull"]).code(5);
    alice.run(&["members", "accept", &carol.fingerprint()]).ok();
    assert!(bob.run(&["members", "list"]).ok().stdout.contains("carol"));
    std::fs::write(&snapshot, "{ not a roster").unwrap();
    bob.run(&["pull"]).ok();
    assert!(
        std::fs::read_to_string(&snapshot)
            .unwrap()
            .contains("digests")
    );

    // An entry after the snapshot is verified in full: a forged one is refused.
    let dave = team.member("dave");
    dave.run(&["pull"]).code(5);
    alice.run(&["members", "accept", &dave.fingerprint()]).ok();
    let newest = newest_file(&team.remote_path("app/members"));
    let text = change_its_time(&newest);
    refused_with(&bob.run(&["status"]).code(6), "membership log");
    std::fs::write(&newest, text).unwrap();
    bob.run(&["pull"]).ok();

    // The first entry rewritten: the entries bob folded are his own copies, so he goes on
    // from what he verified; a machine without them refuses the log.
    change_its_time(&team.remote_path("app/members/00000001.json"));
    bob.run(&["pull"]).ok();
    let fresh = new_machine(&team, &bob, "bob-fresh");
    refused_with(&fresh.run(&["status"]).code(6), "membership log");
}

/// Issue 19: the version a membership change leaves below each head it re-encrypts (here
/// version 1, below the re-encryption that let Bob in) is vouched for by the head's signed
/// link, so a machine that verified the head does not read it on every command. Whoever
/// reads it still refuses it rewritten: `log`, `rollback`, and a machine that has not
/// verified the head yet.
#[test]
fn a_pinned_parent_rewritten_below_a_verified_head_is_refused_by_whoever_reads_it() {
    let team = Team::new();
    let (_alice, bob) = alice_and_bob(&team);
    bob.run(&["status"]).ok();
    change_its_time(&version_path(&team, 1));
    refused_with(&bob.run(&["log"]).code(6), "version 1");
    refused_with(&bob.run(&["rollback", "1"]).code(6), "version 1");
    let fresh = new_machine(&team, &bob, "bob-fresh");
    refused_with(&fresh.run(&["status"]).code(6), "version 1");
}

/// Changes a signed byte of the record at `path` (its `created_at`); returns what it held.
fn change_its_time(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let changed = text.replace("\"created_at\": \"", "\"created_at\": \"1");
    assert_ne!(changed, text);
    std::fs::write(path, changed).unwrap();
    text
}

/// The first file called `name` below `root`.
/// A directory with a file put in its place, so that reading or writing inside it fails
/// (as a remote or a disk that fails midway would); [`Blocked::restore`] puts it back.
struct Blocked {
    path: PathBuf,
    aside: PathBuf,
}

impl Blocked {
    fn directory(path: PathBuf) -> Self {
        let aside = path.with_extension("aside");
        std::fs::rename(&path, &aside).unwrap();
        std::fs::write(&path, "not a directory").unwrap();
        Self { path, aside }
    }

    /// Puts the directory back; its path.
    fn restore(self) -> PathBuf {
        std::fs::remove_file(&self.path).unwrap();
        std::fs::rename(&self.aside, &self.path).unwrap();
        self.path
    }
}

/// The first file under `root` named `name`.
fn find_file(root: &Path, name: &str) -> Option<PathBuf> {
    find_where(root, &|path, _| {
        path.file_name().is_some_and(|file| file == name)
    })
}

/// The first file under `root` (directories walked depth first) that `wanted` accepts.
fn find_where(root: &Path, wanted: &dyn Fn(&Path, &std::fs::Metadata) -> bool) -> Option<PathBuf> {
    for entry in std::fs::read_dir(root).ok()?.flatten() {
        let path = entry.path();
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if metadata.is_dir() {
            if let Some(found) = find_where(&path, wanted) {
                return Some(found);
            }
        } else if wanted(&path, &metadata) {
            return Some(path);
        }
    }
    None
}

/// Item 10: `members accept` exited 6 after it had already added the member. Every head is
/// verified before the entry is written now, so a failure leaves the log as it was.
#[test]
fn accepting_over_a_tampered_head_adds_nobody() {
    let team = Team::new();
    let (alice, _bob) = alice_and_bob(&team);
    let carol = team.member("carol");
    carol.run(&["pull"]).code(5);
    let path = version_path(&team, 2);
    let record = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, record.replace("\"grant access", "\"innocent grant")).unwrap();
    let entries = || {
        std::fs::read_dir(team.remote_path("app/members"))
            .unwrap()
            .count()
    };
    let before = entries();
    alice.run(&["members", "accept", "carol"]).code(6);
    assert_eq!(entries(), before, "an entry was written before the refusal");
    // Carol saw version 2 while asking, so to her it reads as rewritten too.
    carol.run(&["pull"]).code(6);
    assert!(!carol.workspace.join(".env").exists());
}
