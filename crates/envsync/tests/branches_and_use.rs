//! Environments that follow git branches, and `envsync use`: which environment a command
//! acts on without `--env` (`--env`, then `use`, then the branch map, then the default), a
//! protected environment never reached implicitly, and the default file switched between
//! environments on one machine. The real binary on a folder remote, with the real `git` CLI
//! making the branches.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Team, Teammate};

const CONFIG: &str = r#"remote = "REMOTE"

[projects.app]
default_environment = "development"

[projects.app.environments]
development = ".env"
staging = ".env.staging"
qa = ".env.qa"
production = { file = ".env.production", protected = true }

[projects.app.branches]
"release/*" = "staging"
"release/hotfix-*" = "qa"
"main" = "production"
"#;

/// A teammate whose clone maps branches, in a git repository of its own.
fn member(team: &Team, name: &str) -> Teammate {
    let mate = team.member(name);
    let config = CONFIG.replace("REMOTE", team.remote.to_str().unwrap());
    std::fs::write(mate.workspace.join("envsync.toml"), config).unwrap();
    git(
        &mate,
        &["init", "--quiet", "--initial-branch", "feature/login"],
    );
    mate
}

/// Alice founds the project: development, staging and production each have a version
/// (qa has none); Bob is a writer of every environment.
fn founded(team: &Team) -> (Teammate, Teammate) {
    let alice = member(team, "alice");
    alice.write_env(".env", "WHERE=development\n");
    alice.run(&["push", "-m", "first"]).ok();
    alice.write_env(".env.staging", "WHERE=staging\n");
    alice.run(&["push", "--env", "staging"]).ok();
    alice.write_env(".env.production", "WHERE=production\n");
    alice.run(&["push", "--env", "production"]).ok();
    let bob = member(team, "bob");
    let key = bob.member_key();
    alice
        .run(&["members", "add", &key, "--name", "bob", "--role", "writer"])
        .ok();
    (alice, bob)
}

fn git(mate: &Teammate, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(&mate.workspace)
        .env("HOME", &mate.home)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The environment `show` (no `--env`) prints the head of.
fn shown(mate: &Teammate, extra: &[&str]) -> String {
    let mut args = vec!["show", "--remote"];
    args.extend(extra);
    let run = mate.run(&args).ok();
    run.stdout.trim().trim_start_matches("WHERE=").to_owned()
}

/// `status --json`'s `current` entry for `app`.
fn current(mate: &Teammate) -> serde_json::Value {
    let status = mate.run(&["status", "--json"]).ok().document("Status");
    status["current"][0].clone()
}

/// Every file of the clone outside `.git`, with its bytes: to show a command changed nothing.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|name| name == ".git") {
                continue;
            }
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
fn precedence_is_env_then_use_then_branch_then_default() {
    let team = Team::new();
    let (_alice, bob) = founded(&team);
    // No pattern matches `feature/login`: the default.
    assert_eq!(shown(&bob, &[]), "development");
    assert_eq!(current(&bob)["chosen_by"], "default");
    // The branch map, the most specific pattern first.
    git(&bob, &["checkout", "--quiet", "-b", "release/2.0"]);
    assert_eq!(shown(&bob, &[]), "staging");
    let chosen = current(&bob);
    assert_eq!(
        (&chosen["chosen_by"], &chosen["branch"], &chosen["pattern"]),
        (&"branch".into(), &"release/2.0".into(), &"release/*".into())
    );
    let text = bob.run(&["status"]).ok().stdout;
    assert!(
        text.contains(
            "app: commands without --env act on staging \
             (git branch `release/2.0` matches `release/*`"
        ),
        "{text}"
    );
    // Following a branch writes no file: `.env.staging` appears only when pulled.
    assert!(!bob.workspace.join(".env.staging").exists());
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env.staging"), "WHERE=staging\n");
    // `use` outranks the branch map, `--env` outranks `use`.
    bob.run(&["use", "development"]).ok();
    assert_eq!(shown(&bob, &[]), "development");
    assert_eq!(current(&bob)["chosen_by"], "use");
    assert_eq!(shown(&bob, &["--env", "staging"]), "staging");
    bob.run(&["use", "--reset"]).ok();
    assert_eq!(shown(&bob, &[]), "staging");
    // A detached HEAD maps to nothing: the default again.
    git(&bob, &["commit", "--quiet", "--allow-empty", "-m", "x"]);
    git(&bob, &["checkout", "--quiet", "--detach"]);
    assert_eq!(shown(&bob, &[]), "development");
    assert_eq!(current(&bob)["chosen_by"], "default");
}

/// `show --remote` and `status --json`'s `current` entry with `env` set, as a CI job has it.
fn in_ci(mate: &Teammate, env: &[(&str, &str)]) -> (String, serde_json::Value) {
    let shown = mate.run_with_env(&["show", "--remote"], env).ok().stdout;
    let status = mate.run_with_env(&["status", "--json"], env).ok();
    let current = status.document("Status")["current"][0].clone();
    (
        shown.trim().trim_start_matches("WHERE=").to_owned(),
        current,
    )
}

#[test]
fn a_detached_head_in_ci_follows_the_branch_the_ci_names() {
    let team = Team::new();
    let (_alice, bob) = founded(&team);
    git(&bob, &["commit", "--quiet", "--allow-empty", "-m", "x"]);
    git(&bob, &["checkout", "--quiet", "--detach"]);

    // GitHub Actions, a pull request from release/2.0 (checked out as its merge commit).
    let pull_request = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_HEAD_REF", "release/2.0"),
        ("GITHUB_REF", "refs/pull/7/merge"),
        ("GITHUB_REF_NAME", "7/merge"),
    ];
    let (shown, current) = in_ci(&bob, &pull_request);
    assert_eq!(shown, "staging");
    assert_eq!(
        (&current["chosen_by"], &current["branch"]),
        (&"branch".into(), &"release/2.0".into())
    );
    assert_eq!(current["branch_variable"], "GITHUB_HEAD_REF");
    let text = bob.run_with_env(&["status"], &pull_request).ok().stdout;
    assert!(
        text.contains(
            "app: commands without --env act on staging (branch `release/2.0`, named by \
             GITHUB_HEAD_REF, matches `release/*` in envsync.toml)"
        ),
        "{text}"
    );
    bob.run_with_env(&["pull"], &pull_request).ok();
    assert_eq!(bob.read_env(".env.staging"), "WHERE=staging\n");

    // A push to a hotfix branch: its pattern; a tag is no branch: the default.
    let pushed = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REF", "refs/heads/release/hotfix-4"),
        ("GITHUB_REF_NAME", "release/hotfix-4"),
    ];
    let status = bob.run_with_env(&["status", "--json"], &pushed).ok();
    let current = &status.document("Status")["current"][0];
    assert_eq!(
        (&current["environment"], &current["branch_variable"]),
        (&"qa".into(), &"GITHUB_REF_NAME".into())
    );
    let tag = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REF", "refs/tags/release/3"),
        ("GITHUB_REF_NAME", "release/3"),
    ];
    assert_eq!(in_ci(&bob, &tag).0, "development");
    // The same variables outside GitHub Actions name nothing.
    assert_eq!(in_ci(&bob, &pull_request[1..]).0, "development");

    // GitLab CI, a merge request from release/2.1.
    let merge_request = [
        ("GITLAB_CI", "true"),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "release/2.1"),
        ("CI_COMMIT_REF_NAME", "release/2.1"),
    ];
    let (shown, current) = in_ci(&bob, &merge_request);
    assert_eq!(shown, "staging");
    assert_eq!(
        current["branch_variable"],
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"
    );
}

#[test]
fn a_ci_branch_never_chooses_a_protected_environment() {
    let team = Team::new();
    let (_alice, bob) = founded(&team);
    git(&bob, &["commit", "--quiet", "--allow-empty", "-m", "x"]);
    git(&bob, &["checkout", "--quiet", "--detach"]);
    bob.write_env(".env.production", "WHERE=bob\n");
    let remote = team.remote_files();
    let main = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_REF_NAME", "main"),
    ];
    let gitlab_main = [("GITLAB_CI", "true"), ("CI_COMMIT_REF_NAME", "main")];
    let named = [("ENVSYNC_BRANCH", "main")];
    for env in [&main[..], &gitlab_main[..], &named[..]] {
        let status = bob.run_with_env(&["status", "--json"], env).ok();
        let current = status.document("Status")["current"][0].clone();
        assert_eq!(
            (&current["environment"], &current["needs_explicit_env"]),
            (&"production".into(), &true.into()),
            "{env:?}"
        );
        let refused = bob.run_with_env(&["show", "--remote"], env).code(2);
        assert!(
            refused.stderr.contains("app/production is protected")
                && refused.stderr.contains("branch `main` of ")
                && refused.stdout.is_empty(),
            "{}",
            refused.stderr
        );
        bob.run_with_env(&["push"], env).code(2);
        bob.run_with_env(&["pull"], env).code(2);
        assert_eq!(team.remote_files(), remote);
        assert_eq!(bob.read_env(".env.production"), "WHERE=bob\n");
    }
    // Named with --env, the same job reads it.
    let shown = bob
        .run_with_env(&["show", "--remote", "--env", "production"], &main)
        .ok();
    assert_eq!(shown.stdout.trim(), "WHERE=production");
}

#[test]
fn envsync_branch_outranks_the_branch_checked_out_but_not_use() {
    let team = Team::new();
    let (_alice, bob) = founded(&team);
    // Checked out: `feature/login`, which maps to nothing.
    assert_eq!(current(&bob)["chosen_by"], "default");
    let named = [("ENVSYNC_BRANCH", "release/9")];
    let (shown, current) = in_ci(&bob, &named);
    assert_eq!(shown, "staging");
    assert_eq!(
        (&current["branch"], &current["branch_variable"]),
        (&"release/9".into(), &"ENVSYNC_BRANCH".into())
    );
    bob.run(&["use", "development"]).ok();
    let (shown, current) = in_ci(&bob, &named);
    assert_eq!(
        (shown.as_str(), &current["chosen_by"]),
        ("development", &"use".into())
    );
}

#[test]
fn a_protected_environment_is_never_chosen_by_a_branch() {
    let team = Team::new();
    let (_alice, bob) = founded(&team);
    git(&bob, &["checkout", "--quiet", "-b", "main"]);
    let chosen = current(&bob);
    assert_eq!(chosen["environment"], "production");
    assert_eq!(chosen["needs_explicit_env"], true);
    let refused = bob.run(&["show", "--remote"]).code(2);
    assert!(
        refused.stderr.contains("app/production is protected")
            && refused.stderr.contains("branch `main` (pattern `main`)")
            && refused
                .stderr
                .contains("hint: run the command again with `--env production`"),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty(), "no value is printed");
    // A push on `main` changes nothing on the remote.
    bob.write_env(".env.production", "WHERE=bob\n");
    let remote = team.remote_files();
    bob.run(&["push"]).code(2);
    bob.run(&["pull"]).code(2);
    assert_eq!(team.remote_files(), remote);
    assert_eq!(bob.read_env(".env.production"), "WHERE=bob\n");
    // Named, it is an everyday environment.
    assert_eq!(shown(&bob, &["--env", "production"]), "production");
    // `use` cannot make it implicit either.
    let before = snapshot(&bob.workspace);
    let used = bob.run(&["use", "production"]).code(2);
    assert!(
        used.stderr
            .contains("app/production is protected: `envsync use` cannot")
            && used.stderr.contains("hint: pass `--env production`"),
        "{}",
        used.stderr
    );
    assert_eq!(snapshot(&bob.workspace), before);
    // A hotfix branch's more specific pattern wins over `release/*`.
    git(&bob, &["checkout", "--quiet", "-b", "release/hotfix-1"]);
    assert_eq!(current(&bob)["environment"], "qa");
}

#[test]
fn use_switches_between_two_environments_and_back_with_edits_pushed_on_each() {
    let team = Team::new();
    let (alice, bob) = founded(&team);
    bob.run(&["pull"]).ok();
    assert_eq!(bob.read_env(".env"), "WHERE=development\n");

    let used = bob.run(&["use", "staging", "--json"]).ok().document("Used");
    assert_eq!(
        (&used["environment"], &used["previous"], &used["file"]),
        (&"staging".into(), &"development".into(), &".env".into())
    );
    assert!(used["version"].is_u64(), "{used}");
    assert_eq!(bob.read_env(".env"), "WHERE=staging\n");
    assert_mode_0600(&bob.workspace.join(".env"));
    assert!(!bob.workspace.join(".env.staging").exists());
    assert!(
        !bob.read_env("envsync.toml").contains("use"),
        "the choice is local"
    );
    let staging = bob.status_row("staging");
    assert_eq!(
        (&staging["file"], &staging["badge"]),
        (&".env".into(), &"synced".into())
    );
    let development = bob.status_row("development");
    assert_eq!(development["file_holds"], "staging");
    assert_eq!(development["badge"], "not_linked");
    assert_eq!(current(&bob)["environment"], "staging");

    // An edit to `.env` is now an edit to staging: push, sync and pull all agree.
    bob.write_env(".env", "WHERE=staging\nEDIT=bob-staging\n");
    assert_eq!(bob.status_row("staging")["badge"], "local_changes");
    bob.run(&["push", "-m", "staging edit"]).ok();
    bob.run(&["sync"]).ok();
    alice.run(&["pull", "--env", "staging"]).ok();
    assert_eq!(
        alice.read_env(".env.staging"),
        "WHERE=staging\nEDIT=bob-staging\n"
    );
    assert_eq!(alice.read_env(".env"), "WHERE=development\n");
    // Development's file is not development's on this machine now.
    let held = bob.run(&["pull", "--env", "development"]).code(2);
    assert!(
        held.stderr
            .contains(".env holds app/staging on this machine")
            && held
                .stderr
                .contains("hint: run `envsync use --reset -p app`"),
        "{}",
        held.stderr
    );
    let all = bob.run(&["pull", "--all"]).ok();
    assert!(
        all.stderr
            .contains("app/development: .env holds staging on this machine"),
        "{}",
        all.stderr
    );
    let text = bob.run(&["status"]).ok().stdout;
    assert!(text.contains(".env (holds staging)"), "{text}");
    // Two environments compare as usual: development's side comes from its remote head.
    let diff = bob
        .run(&["diff", "development", "staging", "--json"])
        .ok()
        .document("Diff");
    let text = diff.to_string();
    assert!(
        text.contains("EDIT") && !text.contains("bob-staging"),
        "{text}"
    );
    bob.run(&["diff", "development", "staging", "--keys-only"])
        .ok();
    // `run` without --remote would read development's file: refused; with it, fine.
    bob.run(&["run", "-e", "development", "--", "true"]).code(2);
    bob.run(&["run", "-e", "development", "--remote", "--", "true"])
        .ok();

    bob.run(&["use", "--reset"]).ok();
    assert_eq!(bob.read_env(".env"), "WHERE=development\n");
    assert_eq!(bob.status_row("development")["badge"], "synced");
    bob.write_env(".env", "WHERE=development\nEDIT=bob-development\n");
    bob.run(&["push", "-m", "development edit"]).ok();
    alice.run(&["pull"]).ok();
    assert_eq!(
        alice.read_env(".env"),
        "WHERE=development\nEDIT=bob-development\n"
    );
    assert_eq!(
        alice.read_env(".env.staging"),
        "WHERE=staging\nEDIT=bob-staging\n"
    );

    // And back to staging, which finds its own latest version.
    bob.run(&["use", "staging"]).ok();
    assert_eq!(bob.read_env(".env"), "WHERE=staging\nEDIT=bob-staging\n");
    assert_eq!(bob.status_row("staging")["badge"], "synced");
    bob.run(&["use", "--reset"]).ok();
    assert_eq!(
        bob.read_env(".env"),
        "WHERE=development\nEDIT=bob-development\n"
    );
}

#[test]
fn use_refusals_change_nothing() {
    let team = Team::new();
    let (alice, bob) = founded(&team);
    bob.run(&["pull"]).ok();
    let remote = team.remote_files();

    // Unpushed edits in the default file: exit 4, nothing switched.
    bob.write_env(".env", "WHERE=development\nUNPUSHED=1\n");
    let before = snapshot(&bob.workspace);
    let refused = bob.run(&["use", "staging"]).code(4);
    assert!(
        refused
            .stderr
            .contains(".env has changes to app/development")
            && refused.stderr.contains("nothing was switched"),
        "{}",
        refused.stderr
    );
    assert_eq!(snapshot(&bob.workspace), before);
    assert_eq!(team.remote_files(), remote);
    bob.run(&["use", "--reset"]).ok();
    bob.run(&["push"]).ok();
    let remote_after_push = team.remote_files();

    // An environment envsync.toml does not have, and one with no versions yet: exit 2.
    let before = snapshot(&bob.workspace);
    let unknown = bob.run(&["use", "stagign", "--json"]).code(2);
    assert!(
        unknown.stderr.contains("no environment `stagign`"),
        "{}",
        unknown.stderr
    );
    assert_eq!(unknown.json()["exit_code"], 2);
    let empty = bob.run(&["use", "qa"]).code(2);
    assert!(empty.stderr.contains("no versions"), "{}", empty.stderr);
    assert_eq!(snapshot(&bob.workspace), before);
    assert_eq!(team.remote_files(), remote_after_push);

    // An environment the member's role does not cover: exit 5.
    let carol = member(&team, "carol");
    let key = carol.member_key();
    alice
        .run(&[
            "members",
            "add",
            &key,
            "--name",
            "carol",
            "--role",
            "reader",
            "--env",
            "development",
        ])
        .ok();
    carol.run(&["pull"]).ok();
    let remote_after_members = team.remote_files();
    let before = snapshot(&carol.workspace);
    carol.run(&["use", "staging"]).code(5);
    assert_eq!(snapshot(&carol.workspace), before);
    assert_eq!(carol.read_env(".env"), "WHERE=development\nUNPUSHED=1\n");
    assert_eq!(
        team.remote_files(),
        remote_after_members,
        "a refusal writes nothing"
    );
}

#[cfg(unix)]
fn assert_mode_0600(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
}

#[cfg(not(unix))]
fn assert_mode_0600(_path: &Path) {}
