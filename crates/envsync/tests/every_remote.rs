//! The everyday scenarios, written once and run against every kind of remote: a shared
//! folder, an S3 bucket (moto), a git repository (a bare one over `file://`, and one served
//! by git's smart HTTP through lighttpd with basic auth) and an `envsync server` (SQLite). Each remote must keep the
//! same promises: no plaintext in what it stores and versions that are plain age files,
//! exact files, key-by-key merges, conflicts that write nothing, pulls that never overwrite
//! unpushed edits, rollback as a new version, exactly one winner per version number
//! however many teammates push at once, and signed publication records that `log` and
//! `status` read.

mod support;

use std::process::Stdio;

use support::remotes::{Remote, ServerTeam, alice_and_bob};
use support::stores::AWS_ENV;

/// Runs each scenario against one kind of remote, as a module of tests named after it.
macro_rules! on_remote {
    ($module:ident, $remote:ident) => {
        mod $module {
            #[test]
            fn teammates_push_pull_and_read_the_log() {
                super::teammates_push_pull_and_read_the_log(&super::$remote());
            }

            #[test]
            fn sync_merges_key_by_key_and_keeps_the_local_layout() {
                super::sync_merges_key_by_key_and_keeps_the_local_layout(&super::$remote());
            }

            #[test]
            fn conflicting_edits_write_nothing_until_resolved() {
                super::conflicting_edits_write_nothing_until_resolved(&super::$remote());
            }

            #[test]
            fn pull_never_overwrites_unpushed_edits_without_force() {
                super::pull_never_overwrites_unpushed_edits_without_force(&super::$remote());
            }

            #[test]
            fn status_shows_all_five_badges() {
                super::status_shows_all_five_badges(&super::$remote());
            }

            #[test]
            fn log_and_rollback() {
                super::log_and_rollback(&super::$remote());
            }

            #[test]
            fn the_remote_holds_no_plaintext_and_each_version_is_an_age_file() {
                super::the_remote_holds_no_plaintext_and_each_version_is_an_age_file(
                    &super::$remote(),
                );
            }

            #[test]
            fn publications_are_signed_records_that_log_and_status_read() {
                super::publications_are_signed_records_that_log_and_status_read(&super::$remote());
            }

            #[test]
            fn a_growing_membership_log_reaches_every_teammate() {
                super::a_growing_membership_log_reaches_every_teammate(&super::$remote());
            }

            #[test]
            fn of_many_pushes_on_one_base_exactly_one_wins_and_the_rest_sync_without_loss() {
                super::of_many_pushes_on_one_base_exactly_one_wins_and_the_rest_sync_without_loss(
                    &super::$remote(),
                );
            }
        }
    };
}

on_remote!(folder_remote, folder);
on_remote!(bucket_remote, bucket);
on_remote!(server_remote, envsync_server);
on_remote!(git_file_remote, git_file);
on_remote!(git_http_remote, git_http);

fn folder() -> support::Team {
    support::Team::new()
}

fn bucket() -> support::bucket::BucketTeam<'static> {
    support::bucket::BucketTeam::new()
}

fn git_file() -> support::git::GitTeam {
    support::git::GitTeam::file()
}

fn git_http() -> support::git::GitTeam {
    support::git::GitTeam::http()
}

fn envsync_server() -> ServerTeam {
    ServerTeam::sqlite()
}

const SECRET: &str = "sk_live_9f8e7d6c5b4a39281706";

/// DESIGN guarantees 1 and 2: whatever the remote, it keeps no plaintext value, and a
/// version's ciphertext is an age file that the `age` CLI decrypts for each reader.
fn the_remote_holds_no_plaintext_and_each_version_is_an_age_file(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    alice.write_env(
        ".env",
        &format!("STRIPE_KEY={SECRET}\nMULTI=\"line one\\nline two secret-multi\"\n"),
    );
    alice.run(&["push", "-m", "add stripe"]).ok();
    bob.run(&["pull"]).ok();
    let text = format!(
        "# comment\r\nexport STRIPE_KEY='{SECRET}'\r\nOTHER=\"bob-secret-value\\nsecond\"\n"
    );
    bob.write_env(".env", &text);
    let pushed = bob.run(&["push", "--json"]).ok().document("Pushed");

    let stored = remote.stored_bytes();
    let holds = |needle: &str| {
        stored
            .iter()
            .find(|(_, bytes)| {
                bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())
            })
            .map(|(place, _)| place.clone())
    };
    assert!(
        holds("STRIPE_KEY").is_some(),
        "key names are stored in the clear, so the search can see stored text"
    );
    for needle in [SECRET, "secret-multi", "bob-secret-value", "alpha-123"] {
        assert_eq!(holds(needle), None, "a plaintext value is stored");
    }

    let number = pushed["version"].as_u64().unwrap();
    let file = alice.workspace.join("newest.age");
    std::fs::write(&file, remote.ciphertext(&bob, number)).unwrap();
    for who in [&alice, &bob] {
        assert_eq!(who.age_decrypt(&file), text);
    }
}

/// Issue 19: a teammate keeps the membership log folded up to the entry it verified and
/// reads only the entries after it (by number on a folder, bucket or git remote, `?after=` on
/// a server). Whatever the remote, each change of membership still reaches it: a member
/// added, that member's version read with their name, and the member removed.
fn a_growing_membership_log_reaches_every_teammate(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    let members = |who: &support::Teammate| who.run(&["members", "list"]).ok().stdout;
    assert!(!members(&bob).contains("carol"));
    let carol = remote.admit(&alice, "carol");
    assert!(members(&bob).contains("carol"), "{}", members(&bob));
    carol.run(&["pull"]).ok();
    carol.write_env(".env", "CAROL_WAS_HERE=1\n");
    carol.run(&["push", "-m", "from carol"]).ok();
    // A key new to bob is his to accept before he reads what it signed.
    bob.run(&["pull"]).code(5);
    bob.run(&["members", "accept", "carol"]).ok();
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "CAROL_WAS_HERE=1\n");
    let log = bob.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log[0]["author"], "carol");

    alice.run(&["members", "remove", "carol"]).ok();
    let listed = members(&bob);
    let carol_line = listed
        .lines()
        .find(|line| line.contains("carol"))
        .unwrap_or("");
    assert!(carol_line.contains("removed"), "{listed}");
    carol.write_env(".env", "CAROL_WAS_HERE=2\n");
    carol.run(&["push"]).code(5);
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "CAROL_WAS_HERE=1\n");
}

fn teammates_push_pull_and_read_the_log(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(bob.workspace.join(".env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    bob.write_env(".env", "DB_URL=postgres://db/app\nAPI_KEY=alpha-123\n");
    let pushed = bob
        .run(&["push", "-m", "move db", "--json"])
        .ok()
        .document("Pushed");
    assert_eq!(
        pushed["version"], 3,
        "1 first push, 2 re-encryption for bob, 3"
    );
    alice.run(&["pull"]).ok();
    assert_eq!(
        alice.read_env(".env"),
        "DB_URL=postgres://db/app\nAPI_KEY=alpha-123\n"
    );
    let before = state_files(&alice.workspace);
    alice.run(&["pull"]).ok();
    assert_eq!(
        state_files(&alice.workspace),
        before,
        "a pull with nothing new rewrites no state file"
    );
    let status = alice.run(&["status", "--json"]).ok().document("Status");
    assert_eq!(status["environments"][0]["remote_version"], 3);
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log.as_array().unwrap().len(), 3);
    assert_eq!(log[0]["message"], "move db");
    assert_eq!(log[0]["author"], "bob");
    assert_eq!(log[0]["changes"]["changed"], serde_json::json!(["DB_URL"]));
}

fn sync_merges_key_by_key_and_keeps_the_local_layout(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    bob.write_env(
        ".env",
        "# database\nDB_URL=postgres://db.internal/app\nAPI_KEY=alpha-123\n",
    );
    bob.run(&["push", "-m", "move db"]).ok();

    alice.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\n\n# payments\nAPI_KEY=alpha-123\nSTRIPE_KEY=\"sk_live_1\"\n",
    );
    assert_eq!(alice.badge("development"), "diverged");
    alice.run(&["push"]).code(3);
    let synced = alice.run(&["sync", "--json"]).ok().document("Synced");
    assert_eq!(synced["pulled"], true);
    assert_eq!(
        alice.read_env(".env"),
        "# database\nDB_URL=postgres://db.internal/app\n\n# payments\nAPI_KEY=alpha-123\nSTRIPE_KEY=\"sk_live_1\"\n"
    );
    bob.run(&["pull"]).ok();
    let vars = bob.run(&["export", "--file", ".env"]).ok().json();
    assert_eq!(vars["STRIPE_KEY"], "sk_live_1");
    assert_eq!(vars["DB_URL"], "postgres://db.internal/app");
    assert_eq!(alice.badge("development"), "synced");
}

fn conflicting_edits_write_nothing_until_resolved(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    bob.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=bob-key\n",
    );
    bob.run(&["push"]).ok();
    let mine = "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=alice-key\n";
    alice.write_env(".env", mine);
    let refused = alice.run(&["sync"]).code(3);
    assert!(refused.stderr.contains("API_KEY"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("alice-key") && !refused.stderr.contains("bob-key"));
    assert_eq!(
        alice.read_env(".env"),
        mine,
        "a failed merge must write nothing"
    );

    alice.run(&["sync", "--theirs"]).ok();
    assert!(alice.read_env(".env").contains("API_KEY=bob-key"));
    assert_eq!(alice.badge("development"), "synced");

    bob.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=bob-2\n",
    );
    bob.run(&["push"]).ok();
    alice.write_env(
        ".env",
        "# database\nDB_URL=postgres://localhost/app\nAPI_KEY=alice-2\n",
    );
    alice.run(&["sync", "--ours"]).ok();
    bob.run(&["pull"]).ok();
    assert!(bob.read_env(".env").contains("API_KEY=alice-2"));
}

/// Every file under the workspace's `.envsync/`, with its inode: an atomic rewrite (a new
/// file renamed over the old) changes it even when the bytes are the same.
fn state_files(workspace: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut files = Vec::new();
    let mut directories = vec![workspace.join(".envsync")];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            match metadata.is_dir() {
                true => directories.push(entry.path()),
                false => files.push((entry.path(), metadata.ino())),
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no state under {}", workspace.display());
    files
}

fn pull_never_overwrites_unpushed_edits_without_force(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    alice.write_env(".env", "DB_URL=postgres://localhost/app\nAPI_KEY=new\n");
    alice.run(&["push"]).ok();
    bob.write_env(".env", "MINE=unpushed\n");
    bob.run(&["pull"]).code(4);
    assert_eq!(bob.read_env(".env"), "MINE=unpushed\n");
    let forced = bob
        .run(&["pull", "--force", "--json"])
        .ok()
        .document("Pulled");
    let backup = forced["backup"].as_str().unwrap().to_owned();
    assert!(bob.read_env(".env").contains("API_KEY=new"));
    let sealed = std::fs::read(&backup).unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains("unpushed"),
        "backups are encrypted"
    );
    assert_eq!(
        bob.age_decrypt(std::path::Path::new(&backup)),
        "MINE=unpushed\n"
    );
}

fn status_shows_all_five_badges(remote: &dyn Remote) {
    let (alice, bob) = alice_and_bob(remote);
    assert_eq!(bob.badge("development"), "synced");
    assert_eq!(bob.badge("staging"), "not_linked");
    bob.write_env(".env", "DB_URL=changed\n");
    assert_eq!(bob.badge("development"), "local_changes");
    alice.write_env(".env", "DB_URL=alice\n");
    alice.run(&["push"]).ok();
    assert_eq!(bob.badge("development"), "diverged");
    bob.run(&["pull", "--force"]).ok();
    alice.write_env(".env", "DB_URL=alice-2\n");
    alice.run(&["push"]).ok();
    assert_eq!(bob.badge("development"), "update_available");
    let text = bob.run(&["status"]).ok().stdout;
    assert!(
        text.contains("update available") && text.contains("envsync pull"),
        "{text}"
    );
}

fn log_and_rollback(remote: &dyn Remote) {
    let alice = remote.founder("alice");
    alice.write_env(".env", "A=1\n");
    alice.run(&["push", "-m", "one"]).ok();
    alice.write_env(".env", "A=2\nB=2\n");
    alice.run(&["push", "-m", "two"]).ok();
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log[0]["version"], 2);
    assert_eq!(log[0]["message"], "two");
    assert_eq!(log[0]["changes"]["added"], serde_json::json!(["B"]));
    assert_eq!(log[0]["changes"]["changed"], serde_json::json!(["A"]));
    assert_eq!(log[1]["author"], "alice");

    alice.run(&["rollback", "1"]).ok();
    assert_eq!(alice.read_env(".env"), "A=1\n");
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log.as_array().unwrap().len(), 3, "rollback adds a version");
    assert_eq!(log[0]["message"], "rollback to version 1");
    alice.run(&["rollback", "9"]).code(2);
    assert_eq!(alice.badge("development"), "synced");
}

const PUSHERS: usize = 12;

fn of_many_pushes_on_one_base_exactly_one_wins_and_the_rest_sync_without_loss(remote: &dyn Remote) {
    let alice = remote.founder("alice");
    alice.write_env(".env", "SHARED=1\n");
    alice.run(&["push"]).ok();
    let mates: Vec<_> = (0..PUSHERS)
        .map(|index| remote.admit(&alice, &format!("mate{index}")))
        .collect();
    for mate in &mates {
        mate.run(&["pull", "--yes"]).ok();
        let current = mate.read_env(".env");
        mate.write_env(
            ".env",
            &format!(
                "{current}{}_KEY=value-{}\n",
                mate.name.to_uppercase(),
                mate.name
            ),
        );
    }
    let base = alice.run(&["log", "--json"]).ok().document("Log")["versions"]
        .as_array()
        .unwrap()
        .len();

    let children: Vec<_> = mates
        .iter()
        .map(|mate| {
            mate.command(&["push", "--yes"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(
        codes.iter().filter(|&&code| code == 0).count(),
        1,
        "exit codes: {codes:?}"
    );
    assert!(
        codes.iter().all(|&code| code == 0 || code == 3),
        "losers are told to sync: {codes:?}"
    );

    // The losers sync concurrently until each has landed its key.
    std::thread::scope(|scope| {
        for (mate, code) in mates.iter().zip(&codes) {
            if *code == 0 {
                continue;
            }
            scope.spawn(move || {
                let mut last = String::new();
                for _ in 0..60 {
                    let sync = mate.run(&["sync", "--yes"]);
                    if sync.code == 0 {
                        return;
                    }
                    last = sync.stderr;
                }
                panic!("{} never managed to sync: {last}", mate.name);
            });
        }
    });

    alice.run(&["pull", "--yes"]).ok();
    let final_vars = alice.run(&["export", "--file", ".env"]).ok().json();
    for mate in &mates {
        let key = format!("{}_KEY", mate.name.to_uppercase());
        assert_eq!(
            final_vars[&key],
            format!("value-{}", mate.name),
            "{key} was lost"
        );
    }
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    let numbers: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        numbers.len(),
        base + PUSHERS,
        "one version per pusher, none lost"
    );
    let expected: Vec<u64> = (1..=numbers.len() as u64).rev().collect();
    assert_eq!(numbers, expected, "versions are numbered without gaps");
}

/// Issue 15: `envsync publish` leaves a record on the remote, signed by the publisher, so
/// that every teammate's `log` says which version went where and `status` whether each
/// target was last given the head, without asking the target. Publishing again when
/// nothing changed adds no record.
fn publications_are_signed_records_that_log_and_status_read(remote: &dyn Remote) {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let moto = support::S3Server::shared();
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let to = format!(
        "aws-ssm:///published-{}-{count}/?endpoint={}",
        std::process::id(),
        moto.endpoint
    );
    let (alice, bob) = alice_and_bob(remote);
    for mate in [&alice, &bob] {
        let path = mate.workspace.join("envsync.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        let target =
            format!("\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n");
        std::fs::write(path, config + &target).unwrap();
    }
    // The publish target's line of `status --json`, and the remote head it judges against.
    let target_of = |mate: &support::Teammate| {
        let status = mate.run(&["status", "--json"]).ok().json();
        let head = status["environments"][0]["remote_version"].as_u64();
        (status["publications"][0].clone(), head)
    };
    assert_eq!(target_of(&bob).0["state"], "never");

    let published = alice
        .run_with_env(&["publish", "--json"], &AWS_ENV)
        .ok()
        .json();
    assert_eq!(published["targets"][0]["recorded"], true, "{published}");
    let (seen, first) = target_of(&bob);
    assert_eq!(seen["state"], "current", "{seen}");
    assert_eq!(
        (seen["version"].as_u64(), seen["by"].as_str()),
        (first, Some("alice"))
    );
    let text = bob.run(&["status"]).ok().stdout;
    assert!(
        text.contains(&format!("publish app/development -> {to}: current")),
        "{text}"
    );

    // A new version: the target is behind until someone publishes it.
    bob.write_env(".env", "API_URL=https://api.example.com\nNEW_KEY=1\n");
    bob.run(&["push", "-m", "second"]).ok();
    let (behind, head) = target_of(&alice);
    assert!(head > first);
    assert_eq!(
        (behind["state"].as_str(), behind["version"].as_u64()),
        (Some("behind"), first)
    );
    let text = alice.run(&["status"]).ok().stdout;
    assert!(
        text.contains("run `envsync publish --env development --to"),
        "{text}"
    );
    bob.run_with_env(&["publish"], &AWS_ENV).ok();
    let again = bob
        .run_with_env(&["publish", "--json"], &AWS_ENV)
        .ok()
        .json();
    assert_eq!(
        again["targets"][0]["recorded"], false,
        "nothing new to record: {again}"
    );
    assert_eq!(again["targets"][0]["writes"], 0);
    assert_eq!(target_of(&alice).0["state"], "current");

    let log = alice.run(&["log", "--json"]).ok().json();
    let published_to = |index: usize| log["versions"][index]["published"].clone();
    assert_eq!(published_to(0).as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(
        (
            published_to(0)[0]["to"].as_str(),
            published_to(0)[0]["by"].as_str()
        ),
        (Some(to.as_str()), Some("bob"))
    );
    assert_eq!(published_to(1)[0]["by"], "alice");
    let text = alice.run(&["log"]).ok().stdout;
    assert!(
        text.contains(&format!("published to {to} by bob")),
        "{text}"
    );
}
