//! Rough edges a new team hits in its first week, and CI gates: closed pipes, names that do
//! not exist, a bucket without credentials, remotes `init` cannot use, small missing flags,
//! `--exit-code`, `pull --all` and dry runs. Every test drives the real binary on a folder
//! remote (the bucket test needs no S3 server: nothing is listening).

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use support::{Team, Teammate};

/// Alice founds the project with `development` and `staging` pushed.
fn founded(team: &Team) -> Teammate {
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\nB=2\n");
    alice.run(&["push", "-m", "first"]).ok();
    alice.write_env(".env.staging", "A=1\nC=3\n");
    alice.run(&["push", "--env", "staging"]).ok();
    alice
}

/// A teammate Alice adds with `role` (limited to `environments`, when any).
fn added(team: &Team, alice: &Teammate, name: &str, role: &str, envs: &[&str]) -> Teammate {
    let mate = team.member(name);
    let key = mate.member_key();
    let mut args = vec!["members", "add", &key, "--name", name, "--role", role];
    for environment in envs {
        args.extend(["--env", environment]);
    }
    alice.run(&args).ok();
    mate
}

/// Every file under `root` with its bytes, sorted: to show a command wrote nothing.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    files
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let team = Team::new();
    let alice = founded(&team);
    let commands: [&[&str]; 5] = [
        &["completions", "bash"],
        &["man"],
        &["status"],
        &["export", "--format", "shell"],
        &["log"],
    ];
    for args in commands {
        let mut child = alice
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before envsync writes a byte: like `| head -0`.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?} said something on a closed pipe");
    }
    // As a person types it.
    let piped = alice
        .program(
            "sh",
            &["-c", "\"$0\" man | head -1", env!("CARGO_BIN_EXE_envsync")],
        )
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(String::from_utf8_lossy(&piped.stderr), "");
}

/// envsync starts the process itself (`start.rs`), not through std's start-up, and keeps its
/// duty of giving a closed standard stream `/dev/null`: else the next file envsync opened
/// would take the stream's number and receive what is printed. A command `run` starts with
/// standard input and output closed finds `/dev/null` on both, as it would under std.
#[cfg(target_os = "linux")]
#[test]
fn a_closed_standard_stream_is_dev_null_not_the_next_file() {
    let team = Team::new();
    let alice = founded(&team);
    let script = "\"$0\" run -- sh -c \
        'echo \"$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1)\" >&2; \
         echo written || echo unwritable >&2' <&- >&-";
    let output = alice
        .program("sh", &["-c", script, env!("CARGO_BIN_EXE_envsync")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr, "/dev/null /dev/null\n");
}

#[test]
fn invites_and_bundles_refuse_environments_envsync_toml_does_not_name() {
    let team = Team::new();
    let alice = founded(&team);
    let refused = alice
        .run(&["share", "--env", "nosuch", "--role", "reader"])
        .code(2);
    assert!(
        refused.stderr.contains("`nosuch`") && refused.stderr.contains("development, staging"),
        "{}",
        refused.stderr
    );
    assert!(!alice.workspace.join("app.share").exists());
    // Also before any request to a server: nothing listens on this one.
    std::fs::write(
        alice.workspace.join("envsync.toml"),
        support::CONFIG.replace("../remote", "http://127.0.0.1:9"),
    )
    .unwrap();
    let refused = alice
        .run(&["invite", "--env", "staging", "--env", "prodution"])
        .code(2);
    assert!(
        refused.stderr.contains("`prodution`")
            && refused.stderr.contains("(it has: development, staging)"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
}

#[test]
fn a_bucket_without_any_credentials_says_so_and_where_it_looked() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let team = Team::new();
    let url = format!("s3://team/envsync?endpoint=http://127.0.0.1:{port}&region=us-east-1");
    let alice = team.member_of("alice", &url);
    let failed = alice.run(&["status"]).code(1);
    let stderr = failed.stderr.trim();
    assert!(stderr.contains("no credentials found"), "{stderr}");
    assert!(!stderr.contains("access denied"), "{stderr}");
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
    let profile = alice.home.join(".aws/credentials");
    assert!(stderr.contains(profile.to_str().unwrap()), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn init_refuses_a_remote_it_cannot_use() {
    let team = Team::new();
    let alice = team.member("alice");
    let fresh = alice.workspace.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let fresh = fresh.to_str().unwrap();
    for remote in ["svn://files.example/envsync", "ftp://files.example/envsync"] {
        let refused = alice
            .run(&["-C", fresh, "init", "--remote", remote])
            .code(2);
        let stderr = refused.stderr.trim();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(remote) && stderr.contains("s3://") && stderr.contains("folder path"),
            "{stderr}"
        );
    }
    assert!(!Path::new(fresh).join("envsync.toml").exists());
    let refused = alice
        .run(&["-C", fresh, "init", "--remote", "s3://bucket/p?secret=x"])
        .code(2);
    assert!(
        refused.stderr.contains("unknown option"),
        "{}",
        refused.stderr
    );
    alice
        .run(&["-C", fresh, "init", "--remote", "s3://bucket/envsync"])
        .ok();
}

#[test]
fn rollback_takes_a_message() {
    let team = Team::new();
    let alice = founded(&team);
    alice.write_env(".env", "A=broken\n");
    alice.run(&["push"]).ok();
    alice.run(&["rollback", "1", "-m", "bad deploy"]).ok();
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log[0]["message"], "rollback to version 1: bad deploy");
}

#[test]
fn whoami_creates_the_identity_a_newcomer_lacks() {
    let team = Team::new();
    let alice = team.member("alice");
    std::fs::remove_file(alice.identity_file()).unwrap();
    let first = alice.run(&["whoami"]).ok();
    assert!(first.stdout.starts_with("age1"), "{}", first.stdout);
    assert!(
        first.stderr.contains("created your identity"),
        "{}",
        first.stderr
    );
    assert!(alice.identity_file().exists());
    let again = alice.run(&["whoami"]).ok();
    assert_eq!(again.stdout, first.stdout);
    assert!(!again.stderr.contains("created"), "{}", again.stderr);
}

#[test]
fn guard_suggests_unstaging_only_files_that_are_staged() {
    let team = Team::new();
    let alice = team.member("alice");
    let git = |args: &[&str]| {
        let output = alice.program("git", args).output().unwrap();
        assert!(output.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    alice.write_env("prod.env", "API_KEY=live-1234567890\n");
    let unstaged = alice.run(&["guard", "prod.env"]).code(1);
    assert!(!unstaged.stderr.contains("--staged"), "{}", unstaged.stderr);
    assert!(
        unstaged.stderr.contains("remove the values"),
        "{}",
        unstaged.stderr
    );
    git(&["add", "prod.env"]);
    let staged = alice.run(&["guard", "prod.env"]).code(1);
    assert!(
        staged.stderr.contains("git restore --staged"),
        "{}",
        staged.stderr
    );
    let hook = alice.run(&["guard", "--staged"]).code(1);
    assert!(
        hook.stderr.contains("git restore --staged"),
        "{}",
        hook.stderr
    );
}

#[test]
fn watch_prints_its_status_lines_on_stdout() {
    let team = Team::new();
    let alice = founded(&team);
    let mut watcher = alice
        .command(&["watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|line: &String| line.contains("app/staging: synced"))
    {
        match lines.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let _ = watcher.kill();
    let output = watcher.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        seen.first()
            .is_some_and(|line| line.starts_with("watching ")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|line| line == "app/development: synced"),
        "{seen:?}"
    );
    assert!(
        !stderr.contains("synced") && !stderr.contains("watching"),
        "{stderr}"
    );
}

#[test]
fn share_and_join_say_the_passphrase_key_takes_a_moment() {
    let team = Team::new();
    let alice = founded(&team);
    let shared = alice.run(&["share", "-o", "../app.share"]).ok();
    assert!(
        shared.stderr.contains("deriving the passphrase key"),
        "{}",
        shared.stderr
    );
    let passphrase = shared.stdout.trim().to_owned();
    let bob = team.member("bob");
    let bundle = team.root.path().join("app.share");
    let joined = bob
        .run_with_env(
            &["join", bundle.to_str().unwrap()],
            &[("ENVSYNC_PASSPHRASE", &passphrase)],
        )
        .ok();
    assert!(
        joined.stderr.contains("deriving the passphrase key"),
        "{}",
        joined.stderr
    );
}

#[test]
fn status_exit_code_gates_on_anything_not_synced() {
    let team = Team::new();
    let alice = founded(&team);
    alice.run(&["status", "--exit-code"]).ok();
    alice.write_env(".env", "A=1\nB=changed\n");
    alice.run(&["status", "--exit-code"]).code(7);
    alice.run(&["status"]).ok();
    let json = alice
        .run(&["status", "--exit-code", "--json"])
        .code(7)
        .document("Status");
    assert_eq!(json["environments"][0]["badge"], "local_changes");
}

#[test]
fn diff_exit_code_gates_on_any_difference() {
    let team = Team::new();
    let alice = founded(&team);
    alice.run(&["diff", "--exit-code"]).ok();
    alice.write_env(".env", "A=1\nB=changed\n");
    let changed = alice.run(&["diff", "--exit-code"]).code(7);
    assert_eq!(changed.stdout.trim(), "~ B");
    alice.run(&["diff"]).ok();
    alice
        .run(&["diff", "development", "staging", "--exit-code"])
        .code(7);
}

#[test]
fn keys_only_diff_compares_names_a_member_cannot_decrypt() {
    let team = Team::new();
    let alice = founded(&team);
    let bob = added(&team, &alice, "bob", "reader", &["development"]);
    // Bob reads development; staging is not encrypted to him. (Adding him re-encrypted
    // development only, to version 2; staging stays at version 1.)
    bob.run(&["diff", "development", "staging"]).code(5);
    let names = bob
        .run(&[
            "diff",
            "development",
            "staging",
            "--keys-only",
            "--exit-code",
        ])
        .code(7);
    let lines: Vec<&str> = names.stdout.lines().collect();
    assert_eq!(lines, ["+ C", "- B"], "{}", names.stderr);
    assert!(
        names.stderr.contains("staging (remote version 1)"),
        "{}",
        names.stderr
    );
    // The same names on both sides: no difference, exit 0.
    alice.write_env(".env.staging", "B=2\nA=1\n");
    alice.run(&["push", "--env", "staging"]).ok();
    bob.run(&[
        "diff",
        "development",
        "staging",
        "--keys-only",
        "--exit-code",
    ])
    .ok();
    // Local file against the remote head, by name.
    bob.run(&["pull"]).ok();
    bob.write_env(".env", "A=other\nB=2\n");
    bob.run(&["diff", "--keys-only", "--exit-code"]).ok();
    bob.write_env(".env", "A=1\n");
    let removed = bob.run(&["diff", "--keys-only", "--exit-code"]).code(7);
    assert_eq!(removed.stdout.trim(), "- B");
}

#[test]
fn pull_all_fetches_every_environment_the_role_covers() {
    let team = Team::new();
    let alice = founded(&team);
    let bob = added(&team, &alice, "bob", "reader", &["development"]);
    let pulled = bob.run(&["pull", "--all"]).ok();
    assert_eq!(bob.read_env(".env"), "A=1\nB=2\n");
    assert!(!bob.workspace.join(".env.staging").exists());
    assert!(
        pulled
            .stderr
            .contains("pulled version 2 of app/development into .env"),
        "{}",
        pulled.stderr
    );
    assert!(
        pulled.stderr.contains("skipped app/staging"),
        "{}",
        pulled.stderr
    );
    let carol = added(&team, &alice, "carol", "writer", &[]);
    let json = carol
        .run(&["pull", "--all", "--json"])
        .ok()
        .document("PulledAll");
    assert_eq!(json["environments"].as_array().unwrap().len(), 2);
    assert_eq!(carol.read_env(".env.staging"), "A=1\nC=3\n");
    // Someone who is not a member is told so, as by a plain pull.
    let dave = team.member("dave");
    dave.run(&["pull", "--all"]).code(5);
}

#[test]
fn dry_runs_say_what_would_change_and_write_nothing() {
    let team = Team::new();
    let alice = founded(&team);
    let bob = added(&team, &alice, "bob", "writer", &[]);
    bob.run(&["pull"]).ok();
    alice.write_env(".env", "A=2\nB=2\nC=3\n");
    alice.run(&["push"]).ok();
    let unchanged = |mate: &Teammate, args: &[&str], code: i32| {
        let remote = snapshot(&team.remote);
        let workspace = snapshot(&mate.workspace);
        let ledger = mate.home.join(".local/state");
        std::fs::create_dir_all(&ledger).unwrap();
        let verified = snapshot(&ledger);
        let run = mate.run(args).code(code);
        assert!(
            snapshot(&team.remote) == remote,
            "{args:?} changed the remote"
        );
        assert!(snapshot(&ledger) == verified, "{args:?} changed the ledger");
        assert!(
            snapshot(&mate.workspace) == workspace,
            "{args:?} changed the workspace"
        );
        assert!(
            !run.stdout.contains('='),
            "a value was shown: {}",
            run.stdout
        );
        run
    };
    let pull = unchanged(&bob, &["pull", "--dry-run"], 0);
    assert_eq!(pull.stdout.lines().collect::<Vec<_>>(), ["+ C", "~ A"]);
    assert!(
        pull.stderr.contains("would pull version 3"),
        "{}",
        pull.stderr
    );
    // Bob edits too: a push would be refused, a sync would merge and push.
    bob.write_env(".env", "A=1\nB=2\nD=4\n");
    unchanged(&bob, &["push", "--dry-run"], 3);
    let sync = unchanged(&bob, &["sync", "--dry-run"], 0);
    assert!(
        sync.stderr.contains("would merge version 3"),
        "{}",
        sync.stderr
    );
    assert!(
        sync.stderr.contains("would push version 4"),
        "{}",
        sync.stderr
    );
    assert_eq!(
        sync.stdout.lines().collect::<Vec<_>>(),
        ["+ C", "~ A", "+ D"]
    );
    unchanged(&bob, &["pull", "--dry-run"], 4);
    // A conflict a real sync would stop at: listed, exit 3, still nothing written.
    bob.write_env(".env", "A=bobs\nB=2\n");
    let conflict = unchanged(&bob, &["sync", "--dry-run"], 3);
    assert!(
        conflict.stderr.contains("on the remote: A."),
        "{}",
        conflict.stderr
    );
    unchanged(&bob, &["sync", "--dry-run", "--ours"], 0);
    // Alice's next push, planned.
    alice.write_env(".env", "A=2\nC=3\nE=5\n");
    let push = unchanged(&alice, &["push", "--dry-run", "--json"], 0).document("Plan");
    assert_eq!(push["push"]["number"], 4);
    assert_eq!(push["push"]["changes"]["added"][0], "E");
    assert_eq!(push["push"]["changes"]["removed"][0], "B");
    // A fresh clone's first look pins keys, in memory only: no .envsync/ appears.
    let carol = added(&team, &alice, "carol", "reader", &[]);
    unchanged(&carol, &["pull", "--dry-run"], 0);
    assert!(!carol.workspace.join(".envsync").exists());
    unchanged(&carol, &["sync", "--dry-run"], 0);
}
