//! `envsync publish` to GitHub Actions secrets through the real binary: a **contract test**
//! against `support/github_api.py`, which implements GitHub's documented endpoints for
//! repository and environment secrets, checks every request (token, Accept and API-version
//! headers, body shape, the public key's id) and opens every sealed box with libsodium
//! (PyNaCl). GitHub cannot return values, so a second run is a no-op through this machine's
//! record of what it published (keyed digests and GitHub's `updated_at`).

mod support;

use serde_json::Value;
use support::stores::{
    AWS_ENV, CloudApis, GITHUB_READ_ONLY_TOKEN, GITHUB_TOKEN, aws_admin, files_containing,
};
use support::{S3Server, Team, Teammate};

fn add_targets(alice: &Teammate, targets: &[(&str, &str)]) {
    let path = alice.workspace.join("envsync.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    for (to, extra) in targets {
        config.push_str(&format!(
            "\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n{extra}\n"
        ));
    }
    std::fs::write(path, config).unwrap();
}

fn publish(alice: &Teammate, token: &str, args: &[&str]) -> support::Run {
    let mut all = vec!["publish", "--json"];
    all.extend_from_slice(args);
    let mut env = vec![("GH_TOKEN", token), ("GITHUB_TOKEN", "")];
    env.extend(AWS_ENV);
    alice.run_with_env(&all, &env)
}

fn names(target: &Value, field: &str) -> Vec<String> {
    let list = target[field].as_array().unwrap();
    list.iter()
        .map(|name| name.as_str().unwrap().into())
        .collect()
}

/// The requests served since `from`, as `METHOD path`, after checking none had a problem.
fn requests(github: &CloudApis, from: usize) -> Vec<String> {
    let log = github.log();
    for entry in &log {
        assert!(entry.get("problem").is_none(), "a bad request: {entry}");
    }
    let line = |entry: &Value| {
        let (method, path) = (entry["method"].as_str(), entry["path"].as_str());
        format!("{} {}", method.unwrap(), path.unwrap())
    };
    log[from..].iter().map(line).collect()
}

#[test]
fn contract_publish_to_github_repository_and_environment_secrets() {
    let github = CloudApis::github();
    let team = Team::new();
    let alice = team.member("alice");
    let repository = format!("github:acme/app?endpoint={}", github.url);
    let environment = format!("github:acme/app@production?endpoint={}", github.url);
    add_targets(
        &alice,
        &[
            (&repository, "keys = [\"*\", \"!LOCAL_*\"]"),
            (&environment, ""),
        ],
    );
    alice.write_env(".env", "A=1\ndb_url=postgres://secret@db\nLOCAL_X=no\n");
    alice.run(&["push"]).ok();

    // Nothing is written by --dry-run or --check; drift is exit 7, names only.
    let dry = publish(&alice, GITHUB_TOKEN, &["--dry-run"]).ok().json();
    assert_eq!(names(&dry["targets"][0], "missing"), ["A", "DB_URL"]);
    let check = publish(&alice, GITHUB_TOKEN, &["--check"]).code(7);
    assert!(!check.stdout.contains("postgres://"));
    let opened = github.get("/_contract/opened");
    assert!(
        opened
            .as_object()
            .unwrap()
            .values()
            .all(|scope| scope == &serde_json::json!({}))
    );
    assert!(
        requests(&github, 0)
            .iter()
            .all(|line| line.starts_with("GET "))
    );

    let first = publish(&alice, GITHUB_TOKEN, &[]).ok().json();
    assert_eq!(first["targets"][0]["writes"], 2);
    assert_eq!(first["targets"][1]["writes"], 3);
    assert_eq!(first["targets"][0]["values_readable"], false);
    let opened = github.get("/_contract/opened");
    assert_eq!(
        opened["acme/app"],
        serde_json::json!({"A": "1", "DB_URL": "postgres://secret@db"})
    );
    assert_eq!(opened["acme/app@production"]["LOCAL_X"], "no");

    // Idempotent: one listing per target, no write; --check is clean.
    let before = github.log().len();
    let again = publish(&alice, GITHUB_TOKEN, &[]).ok().json();
    assert_eq!(again["targets"][0]["writes"], 0);
    assert_eq!(
        requests(&github, before),
        [
            "GET /repos/acme/app/actions/secrets",
            "GET /repos/acme/app/environments/production/secrets"
        ]
    );
    publish(&alice, GITHUB_TOKEN, &["--check"]).ok();
    // The record beside the state holds digests, never a value.
    let state = alice.workspace.join(".envsync");
    assert!(files_containing(&state, "postgres://secret@db").is_empty());

    drift_changes_and_prune(&alice, &github);
    a_machine_without_the_record(&alice, &github);
}

/// A secret changed on GitHub by someone else is seen as changed; a changed environment
/// too; extra secrets stay unless --prune.
fn drift_changes_and_prune(alice: &Teammate, github: &CloudApis) {
    github.post("/_contract/touch?scope=acme/app&name=A");
    github.post("/_contract/put?scope=acme/app&name=STALE");
    alice.write_env(".env", "A=1\ndb_url=postgres://rotated@db\nC=new\n");
    alice.run(&["push"]).ok();
    let check = publish(alice, GITHUB_TOKEN, &["--check"]).code(7);
    assert!(!check.stdout.contains("rotated") && !check.stdout.contains("\"new\""));
    let check = check.json();
    let repository = &check["targets"][0];
    assert_eq!(names(repository, "changed"), ["A", "DB_URL"]);
    assert_eq!(names(repository, "missing"), ["C"]);
    assert_eq!(names(repository, "extra"), ["STALE"]);

    publish(alice, GITHUB_TOKEN, &[]).ok();
    let opened = github.get("/_contract/opened");
    assert_eq!(opened["acme/app"]["A"], "1");
    assert_eq!(opened["acme/app"]["DB_URL"], "postgres://rotated@db");
    assert_eq!(opened["acme/app"]["STALE"], "set by someone else");
    assert_eq!(opened["acme/app@production"]["LOCAL_X"], "no");
    publish(alice, GITHUB_TOKEN, &["--check"]).ok();
    publish(alice, GITHUB_TOKEN, &["--check", "--prune"]).code(7);
    let pruned = publish(alice, GITHUB_TOKEN, &["--prune"]).ok().json();
    assert_eq!(pruned["targets"][0]["writes"], 1);
    assert_eq!(pruned["targets"][1]["writes"], 1);
    let opened = github.get("/_contract/opened");
    let keys = |scope: &str| opened[scope].as_object().unwrap().len();
    assert_eq!((keys("acme/app"), keys("acme/app@production")), (3, 3));
    publish(alice, GITHUB_TOKEN, &["--check", "--prune"]).ok();
}

/// Without the record (another machine, a CI runner), values cannot be compared: `--check`
/// lists them as unverified without calling it drift, and a publish rewrites them once.
fn a_machine_without_the_record(alice: &Teammate, github: &CloudApis) {
    let state = alice.workspace.join(".envsync/app/development/published");
    std::fs::remove_dir_all(state).unwrap();
    let check = publish(alice, GITHUB_TOKEN, &["--check"]).ok().json();
    assert_eq!(
        names(&check["targets"][0], "unverified"),
        ["A", "DB_URL", "C"]
    );
    let text = alice.run_with_env(
        &["publish", "--check"],
        &[("GH_TOKEN", GITHUB_TOKEN), ("GITHUB_TOKEN", "")],
    );
    assert!(text.ok().stdout.contains("not compared: ?A ?DB_URL ?C"));
    let rewritten = publish(alice, GITHUB_TOKEN, &[]).ok().json();
    assert_eq!(rewritten["targets"][0]["writes"], 3);
    let again = publish(alice, GITHUB_TOKEN, &[]).ok().json();
    assert_eq!(again["targets"][0]["writes"], 0);
    assert_eq!(github.get("/_contract/opened")["acme/app"]["C"], "new");
}

#[test]
fn contract_github_refusals_name_the_target_and_the_others_still_publish() {
    let github = CloudApis::github();
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = team.member("alice");
    let repository = format!("github:acme/app?endpoint={}", github.url);
    let unknown = format!("github:acme/nope?endpoint={}", github.url);
    let aws = format!("aws-sm://app/gh-refusals?endpoint={}", moto.endpoint);
    add_targets(&alice, &[(&repository, ""), (&unknown, ""), (&aws, "")]);
    alice.write_env(".env", "A=value-1\n");
    alice.run(&["push"]).ok();

    let bad = publish(&alice, "ghp_wrong", &[]).code(1);
    assert!(!bad.stdout.contains("value-1") && !bad.stderr.contains("value-1"));
    let bad = bad.json();
    let error = |run: &Value, index: usize| run["targets"][index]["error"].as_str().unwrap().into();
    let refused: String = error(&bad, 0);
    assert!(refused.contains("github:acme/app") && refused.contains("HTTP 401"));
    assert!(refused.contains("GitHub refused the token"), "{refused}");
    assert_eq!(bad["targets"][2]["writes"], 1);
    assert_eq!(
        aws_admin(moto, "sm-get", "app/gh-refusals", ""),
        r#"{"A":"value-1"}"#
    );

    let run = publish(&alice, GITHUB_READ_ONLY_TOKEN, &[]).code(1).json();
    let forbidden: String = error(&run, 0);
    assert!(
        forbidden.contains("may not manage Actions secrets of acme/app"),
        "{forbidden}"
    );
    let missing: String = error(&run, 1);
    assert!(
        missing.contains("github:acme/nope") && missing.contains("HTTP 404"),
        "{missing}"
    );

    // A key GitHub cannot hold is refused by name before anything is written.
    alice.write_env(".env", "A=value-1\nGITHUB_SHA=x\n");
    alice.run(&["push"]).ok();
    let run = publish(&alice, GITHUB_TOKEN, &["--to", &repository])
        .code(1)
        .json();
    let named: String = error(&run, 0);
    assert!(
        named.contains("`GITHUB_SHA`") && named.contains("!GITHUB_SHA"),
        "{named}"
    );
    assert!(github.log().iter().all(|entry| entry["method"] != "PUT"));
}
