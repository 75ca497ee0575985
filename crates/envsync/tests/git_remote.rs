//! What only a git remote promises (the everyday scenarios run on it in every_remote.rs):
//! records live on their own branch and no other branch or checkout is touched; `git:NAME`
//! follows the workspace's own remote; pushes to other environments that race are replayed,
//! not refused; git's refusals (a wrong password, a hook) are one-line errors that change
//! nothing, never a lost race; `init` says who can read the branch.

mod support;

use std::process::Stdio;

use support::git::{GitTeam, git, git_in, git_in_tree, version_path};
use support::remotes::{Remote, alice_and_bob};

/// A commit on `main` of the team's repository, as the code people work on.
fn seed_main(team: &GitTeam) -> String {
    let seed = team.team.root.path().join("seed");
    let seed_path = seed.to_str().unwrap();
    git(&["init", "--quiet", "-b", "main", seed_path]);
    std::fs::write(seed.join("app.rs"), "fn main() {}\n").unwrap();
    git_in_tree(seed_path, &["add", "app.rs"]);
    git_in_tree(seed_path, &["commit", "--quiet", "-m", "code"]);
    git_in_tree(
        seed_path,
        &["push", "--quiet", team.bare.to_str().unwrap(), "main"],
    );
    rev(team, "refs/heads/main")
}

fn rev(team: &GitTeam, name: &str) -> String {
    String::from_utf8(git_in(&team.bare, &["rev-parse", name]))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn git_origin_keeps_records_on_their_own_branch_and_touches_no_other() {
    let team = GitTeam::file();
    let main = seed_main(&team);
    let alice = team.member("alice");
    // Alice's workspace is a clone of the code; envsync.toml names its own remote.
    std::fs::remove_dir_all(&alice.workspace).unwrap();
    let workspace = alice.workspace.to_str().unwrap();
    git(&["clone", "--quiet", team.bare.to_str().unwrap(), workspace]);
    std::fs::write(
        alice.workspace.join("envsync.toml"),
        support::CONFIG.replace("../remote", "git:origin"),
    )
    .unwrap();
    let refs_before = git(&["-C", workspace, "for-each-ref"]);
    alice.write_env(".env", "API_KEY=alpha-123\n");
    alice.run(&["push", "-m", "first"]).ok();

    assert_eq!(rev(&team, "refs/heads/main"), main, "main is untouched");
    let tree = team.files();
    assert!(tree.contains(&version_path("app/environments/development", 1)));
    assert!(tree.contains(&"app/members/00000001.json".to_owned()));
    assert_eq!(
        git(&["-C", workspace, "for-each-ref"]),
        refs_before,
        "the workspace's own refs are untouched"
    );
    let status = git(&["-C", workspace, "status", "--porcelain", "--ignored"]);
    let status = String::from_utf8(status).unwrap();
    assert!(
        !status.contains("app/"),
        "no record in the work tree: {status}"
    );
    let described = alice.run(&["status", "--json"]).ok().json();
    assert_eq!(described["environments"][0]["remote_version"], 1);
}

/// Issue 19: a push commits the environment's `head` hint beside its version, and readers
/// probe around it instead of reading the versions' tree, which grows with the history. A
/// hint anyone with push access rewrote, garbled or deleted still finds the head.
#[test]
fn a_git_head_hint_is_only_a_hint() {
    let team = GitTeam::file();
    let (alice, bob) = alice_and_bob(&team);
    for value in ["2", "3", "4"] {
        alice.write_env(".env", &format!("API_KEY={value}\n"));
        alice.run(&["push"]).ok();
    }
    let hint = "app/environments/development/head";
    assert_eq!(
        team.show(hint),
        b"5\n",
        "1 first, 2 re-encryption for bob, 3 to 5"
    );
    bob.run(&["pull"]).ok();
    let head = |who: &support::Teammate| {
        let status = who.run(&["status", "--json"]).ok().json();
        status["environments"][0]["remote_version"].clone()
    };
    for wrong in [
        &b"1\n"[..],
        b"",
        b"garbage",
        b"99999999999999999999999",
        b"7\n",
    ] {
        team.commit_on_branch(hint, Some(wrong));
        assert_eq!(head(&bob), 5, "hint {:?}", String::from_utf8_lossy(wrong));
        assert_eq!(bob.badge("development"), "synced");
    }
    team.commit_on_branch(hint, None);
    assert_eq!(head(&bob), 5);
    // The next push puts the hint back.
    bob.write_env(".env", "API_KEY=6\n");
    bob.run(&["push"]).ok();
    assert_eq!(team.show(hint), b"6\n");
    assert_eq!(head(&alice), 6);
}

/// Issue 19: versions and ciphertexts are filed in subdirectories, so that no tree a push
/// rewrites or a lookup reads grows with the history. A branch written before then keeps
/// them flat: it is still read, its version numbers stay taken, and new records go to the
/// filed paths beside the flat ones.
#[test]
fn a_branch_with_flat_versions_is_still_read_and_its_numbers_stay_taken() {
    let team = GitTeam::file();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "API_KEY=three\n");
    alice.run(&["push"]).ok();
    let environment = "app/environments/development";
    let filed = team.files();
    assert!(filed.contains(&version_path(environment, 3)), "{filed:?}");
    assert!(
        filed
            .iter()
            .any(|path| path.contains("/objects/") && path.matches('/').count() == 5)
    );
    team.edit_branch(|clone| flatten(&clone.join(environment)));
    let flat = team.files();
    assert!(
        flat.contains(&format!("{environment}/versions/00000003.json")),
        "{flat:?}"
    );

    // Bob pulled version 2: version 3, flat, is taken, and his edit must merge with it.
    bob.write_env(
        ".env",
        &format!("{}OTHER=bob\n", support::team_server::ALICE_ENV),
    );
    bob.run(&["push"]).code(3);
    bob.run(&["sync"]).ok();
    assert!(team.files().contains(&version_path(environment, 4)));
    assert!(
        flat.iter().all(|path| team.files().contains(path)),
        "flat records stay"
    );
    alice.run(&["pull"]).ok();
    let merged = bob.read_env(".env");
    assert_eq!(alice.read_env(".env"), merged);
    let vars = alice.run(&["export", "--file", ".env"]).ok().json();
    assert_eq!(
        vars,
        serde_json::json!({"API_KEY": "three", "OTHER": "bob"})
    );
    let log = alice.run(&["log", "--json"]).ok().document("Log")["versions"].clone();
    assert_eq!(log.as_array().map(Vec::len), Some(4), "{log}");

    // A fresh clone reads the whole history, flat and filed.
    let carol = team.admit(&alice, "carol");
    carol.run(&["pull"]).ok();
    assert_eq!(carol.read_env(".env"), merged);
}

/// Moves an environment's filed versions and ciphertexts to the flat paths of a branch
/// written before filing.
fn flatten(environment: &std::path::Path) {
    for kind in ["versions", "objects"] {
        let directory = environment.join(kind);
        for shard in std::fs::read_dir(&directory).unwrap() {
            let shard = shard.unwrap().path();
            for file in std::fs::read_dir(&shard).unwrap() {
                let file = file.unwrap().path();
                std::fs::rename(&file, directory.join(file.file_name().unwrap())).unwrap();
            }
            std::fs::remove_dir(&shard).unwrap();
        }
    }
}

#[test]
fn pushes_to_other_environments_that_race_are_replayed_not_refused() {
    const WRITERS: usize = 6;
    let team = GitTeam::file();
    let alice = team.member("alice");
    alice.write_env(".env", "SHARED=1\n");
    alice.run(&["push"]).ok();
    let writers: Vec<_> = (0..WRITERS)
        .map(|index| {
            let mate = team.admit(&alice, &format!("w{index}"));
            let config = mate.workspace.join("envsync.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            std::fs::write(&config, format!("{text}own{index} = \".env.own\"\n")).unwrap();
            mate.write_env(".env.own", &format!("MINE=w{index}\n"));
            mate
        })
        .collect();
    let children: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(index, mate)| {
            mate.command(&["push", "--env", &format!("own{index}"), "--yes"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tree = team.files();
    for index in 0..WRITERS {
        let record = version_path(&format!("app/environments/own{index}"), 1);
        assert!(tree.contains(&record), "{record} was lost");
    }
}

#[test]
fn a_push_that_raced_a_membership_change_is_encrypted_again_for_the_new_roster() {
    let team = GitTeam::file();
    let (alice, bob) = alice_and_bob(&team);
    let before = rev(&team, "refs/heads/envsync");
    let carol = team.member("carol");
    alice
        .run(&["members", "add", &carol.member_key(), "--name", "carol"])
        .ok();
    let moved = rev(&team, "refs/heads/envsync");
    // Put the branch back as Bob last saw it; the repository's `update` hook moves it to
    // Carol's admission while Bob's push is under way, once.
    git_in(&team.bare, &["update-ref", "refs/heads/envsync", &before]);
    install_hook(
        &team,
        "update",
        &format!("rm -f \"$0\"\ngit update-ref refs/heads/envsync {moved}\n"),
    );
    bob.write_env(".env.staging", "STAGING_KEY=s-1\n");
    let pushed = bob
        .run(&["push", "--env", "staging", "--yes", "--json"])
        .ok()
        .document("Pushed");
    assert_eq!(pushed["version"], 1);
    assert!(
        !team.bare.join("hooks/update").exists(),
        "the race happened"
    );
    let record = team.show(&version_path("app/environments/staging", 1));
    assert!(
        String::from_utf8_lossy(&record).contains(&carol.member_key()),
        "encrypted for the roster that admitted Carol"
    );
    carol.run(&["pull", "--env", "staging", "--yes"]).ok();
    assert_eq!(carol.read_env(".env.staging"), "STAGING_KEY=s-1\n");
}

fn install_hook(team: &GitTeam, name: &str, body: &str) {
    let hook = team.bare.join("hooks").join(name);
    std::fs::write(&hook, format!("#!/bin/sh\n{body}")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_wrong_password_is_a_one_line_error_that_changes_nothing() {
    let team = GitTeam::http();
    let alice = team.member("alice");
    alice.write_env(".env", "API_KEY=alpha-123\n");
    alice.run(&["push"]).ok();
    let before = rev(&team, "refs/heads/envsync");

    let mallory = team.member("mallory");
    let store = mallory.home.join("git-credentials");
    let text = std::fs::read_to_string(&store).unwrap();
    std::fs::write(
        &store,
        text.replace(support::git::HTTP_PASSWORD, "guessed-wrong"),
    )
    .unwrap();
    mallory.write_env(".env", "API_KEY=forged\n");
    for args in [&["pull"][..], &["push"][..]] {
        let refused = mallory.run(args).code(1);
        let lines: Vec<&str> = refused.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", refused.stderr);
        assert!(
            lines[0].starts_with("error: git remote http://127.0.0.1:"),
            "{}",
            lines[0]
        );
        assert!(!refused.stderr.contains("guessed-wrong"));
    }
    assert_eq!(rev(&team, "refs/heads/envsync"), before);

    // With no credentials at all git must fail at once instead of prompting.
    std::fs::remove_file(mallory.home.join(".gitconfig")).unwrap();
    let prompted = mallory
        .command(&["pull"])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(prompted.status.code(), Some(1));
}

#[test]
fn a_push_a_hook_declines_is_an_error_not_a_lost_race() {
    let team = GitTeam::file();
    let alice = team.member("alice");
    alice.write_env(".env", "API_KEY=alpha-123\n");
    alice.run(&["push"]).ok();
    let hook = team.bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'branch envsync is protected' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    alice.write_env(".env", "API_KEY=beta-456\n");
    let refused = alice.run(&["push"]).code(1);
    assert!(
        refused.stderr.contains("pre-receive hook declined"),
        "{}",
        refused.stderr
    );
    assert_eq!(alice.badge("development"), "local_changes");
}

#[test]
fn init_says_who_can_read_the_branch() {
    let team = GitTeam::file();
    let alice = team.member("alice");
    std::fs::remove_file(alice.workspace.join("envsync.toml")).unwrap();
    let remote = format!("{}#team-secrets", team.url);
    let run = alice.run(&["init", "--remote", &remote]).ok();
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(
        text.contains(&format!(
            "everyone who can read file://{} can read its branch `team-secrets`",
            team.bare.display()
        )) && text.contains("never values")
            && text.contains("private repository"),
        "{text}"
    );
    let json = alice
        .run(&[
            "init",
            "--env",
            "staging",
            "--file",
            ".env.staging",
            "--json",
        ])
        .ok()
        .document("Initialised");
    assert!(
        json["readable_by"]
            .as_str()
            .unwrap()
            .contains("team-secrets")
    );
}
