//! `envsync publish` through the real binary, to AWS Secrets Manager (one JSON secret, or
//! one secret per key) and SSM Parameter Store (one SecureString per key) on moto's server:
//! only what differs is
//! written, a second run writes nothing, `--check` reports drift with exit 7 and key names
//! only, `--prune` is the only way keys are removed, and one failing target does not stop
//! the others.

mod support;

use support::stores::{AWS_ENV, aws_admin};
use support::{S3Mode, S3Server, Team, Teammate};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn add_targets(alice: &Teammate, targets: &str) {
    let path = alice.workspace.join("envsync.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(targets);
    std::fs::write(path, config).unwrap();
}

/// A target nothing listens on: publishing to it fails.
const DOWN: &str = "aws-sm://down?endpoint=http://127.0.0.1:9";

/// `development` published to each of `targets`, in order, with `A=1` pushed.
fn pushed_with_targets(alice: &Teammate, targets: &[&str]) {
    for to in targets {
        add_targets(
            alice,
            &format!("\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n"),
        );
    }
    alice.write_env(".env", "A=1\n");
    alice.run(&["push"]).ok();
}

fn publish(alice: &Teammate, args: &[&str]) -> support::Run {
    let mut all = vec!["publish", "--json"];
    all.extend_from_slice(args);
    alice.run_with_env(&all, &AWS_ENV)
}

#[test]
fn publish_writes_only_what_differs_and_check_reports_drift() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = team.member("alice");
    let secret = format!("aws-sm://app/dev?endpoint={}", moto.endpoint);
    let folder = format!("aws-ssm:///app/dev/?endpoint={}", moto.endpoint);
    add_targets(
        &alice,
        &format!(
            "\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{secret}\"\n\
             \n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{folder}\"\n\
             keys = [\"*\", \"!LOCAL_*\"]\n"
        ),
    );
    alice.write_env(".env", "A=1\nB=two\nLOCAL_X=no\n");
    alice.run(&["push"]).ok();

    let first = publish(&alice, &[]).ok().json();
    assert_eq!(first["targets"][0]["writes"], 1);
    assert_eq!(first["targets"][1]["writes"], 2);
    assert_eq!(
        json(&aws_admin(moto, "sm-get", "app/dev", "")),
        json(r#"{"A":"1","B":"two","LOCAL_X":"no"}"#)
    );
    assert_eq!(
        json(&aws_admin(moto, "ssm-list", "/app/dev/", "")),
        json(r#"{"/app/dev/A":"1","/app/dev/B":"two"}"#)
    );

    // Idempotent: the second run reads each target once and writes nothing.
    let before = moto.request_total();
    let again = publish(&alice, &[]).ok().json();
    assert_eq!(moto.request_total() - before, 2);
    assert_eq!(again["targets"][0]["writes"], 0);
    publish(&alice, &["--check"]).ok();

    alice.write_env(".env", "A=1\nB=three\nC=new\n");
    alice.run(&["push"]).ok();
    aws_admin(moto, "ssm-put", "/app/dev/STALE", "old");
    let drift = publish(&alice, &["--check"]).code(7);
    assert!(!drift.stdout.contains("three") && !drift.stdout.contains("\"new\""));
    let drift = drift.json();
    let sm = &drift["targets"][0];
    assert_eq!(
        (sm["changed"][0].clone(), sm["missing"][0].clone()),
        ("B".into(), "C".into())
    );
    assert_eq!(sm["extra"][0], "LOCAL_X");
    assert_eq!(drift["targets"][1]["extra"][0], "STALE");
    assert!(!aws_admin(moto, "sm-get", "app/dev", "").contains("three"));

    // Without --prune, extra keys stay; with it, they go.
    publish(&alice, &["--dry-run"]).ok();
    assert!(!aws_admin(moto, "sm-get", "app/dev", "").contains("three"));
    publish(&alice, &[]).ok();
    assert_eq!(
        json(&aws_admin(moto, "sm-get", "app/dev", "")),
        json(r#"{"A":"1","B":"three","C":"new","LOCAL_X":"no"}"#)
    );
    publish(&alice, &["--check"]).ok();
    publish(&alice, &["--check", "--prune"]).code(7);
    publish(&alice, &["--prune"]).ok();
    publish(&alice, &["--check", "--prune"]).ok();
    assert_eq!(
        json(&aws_admin(moto, "sm-get", "app/dev", "")),
        json(r#"{"A":"1","B":"three","C":"new"}"#)
    );
    assert_eq!(
        json(&aws_admin(moto, "ssm-list", "/app/dev/", "")),
        json(r#"{"/app/dev/A":"1","/app/dev/B":"three","/app/dev/C":"new"}"#)
    );
}

#[test]
fn a_failing_target_does_not_stop_the_others_and_bad_config_is_refused() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = team.member("alice");
    let other = format!("aws-sm://app/other?endpoint={}", moto.endpoint);
    pushed_with_targets(&alice, &[DOWN, &other]);
    let run = publish(&alice, &[]).code(1).json();
    assert!(
        run["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("aws-sm://down")
    );
    assert_eq!(run["targets"][1]["writes"], 1);
    assert_eq!(
        json(&aws_admin(moto, "sm-get", "app/other", "")),
        json(r#"{"A":"1"}"#)
    );
    publish(&alice, &["--to", "github:acme/app"]).code(2);

    add_targets(
        &alice,
        "\n[[projects.app.publish]]\nenvironment = \"nope\"\nto = \"aws-sm://x\"\n",
    );
    let refused = publish(&alice, &[]).code(2);
    assert!(refused.stderr.contains("`nope`"), "{}", refused.stderr);
}

/// The text of a result goes out in one write, held while it is printed: a failure said
/// on stderr between two lines of it must still come where it happened, after the lines
/// before it. Both streams go to one pipe, as on a terminal or in a CI log.
#[test]
fn a_failure_between_results_is_printed_in_its_place() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = team.member("alice");
    let first = format!("aws-sm://app/first?endpoint={}", moto.endpoint);
    pushed_with_targets(&alice, &[&first, DOWN]);
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut command = alice.command(&["publish"]);
    command
        .envs(AWS_ENV.iter().copied())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    let mut child = command.spawn().unwrap();
    drop(command);
    let mut both = String::new();
    std::io::Read::read_to_string(&mut reader, &mut both).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1), "{both}");
    let published = both.find("version 1 -> aws-sm://app/first").expect(&both);
    let failed = both.find("version 1 -> aws-sm://down").expect(&both);
    assert!(published < failed, "{both}");
}

#[test]
fn publish_one_secrets_manager_secret_per_key() {
    // Its own moto, so that request counts are this test's alone.
    let moto = S3Server::start(S3Mode::Normal);
    let team = Team::new();
    let alice = team.member("alice");
    let to = format!("aws-sm://app/keys/*?endpoint={}", moto.endpoint);
    add_targets(
        &alice,
        &format!("\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n"),
    );
    aws_admin(&moto, "sm-put", "app/keys-other/A", "not ours");
    aws_admin(&moto, "sm-put", "app/keys/deeper/A", "not ours either");
    alice.write_env(".env", "A=1\nB=two\n");
    alice.run(&["push"]).ok();
    let listed = |moto: &S3Server| json(&aws_admin(moto, "sm-list", "app/keys/", ""));

    let check = publish(&alice, &["--check"]).code(7).json();
    assert_eq!(check["targets"][0]["missing"], json(r#"["A","B"]"#));
    assert_eq!(check["targets"][0]["extra"], json("[]"));
    assert_eq!(publish(&alice, &[]).ok().json()["targets"][0]["writes"], 2);
    let mut expected = json(r#"{"app/keys/A":"1","app/keys/B":"two"}"#);
    expected["app/keys/deeper/A"] = "not ours either".into();
    assert_eq!(listed(&moto), expected);

    // Idempotent: one ListSecrets and one BatchGetSecretValue, no write.
    let before = moto.request_total();
    assert_eq!(publish(&alice, &[]).ok().json()["targets"][0]["writes"], 0);
    assert_eq!(moto.request_total() - before, 2);

    aws_admin(&moto, "sm-put", "app/keys/STALE", "old");
    alice.write_env(".env", "A=1\nB=three\nC=new\n");
    alice.run(&["push"]).ok();
    let drift = publish(&alice, &["--check"]).code(7);
    assert!(!drift.stdout.contains("three") && !drift.stdout.contains("\"new\""));
    let target = &drift.json()["targets"][0];
    assert_eq!(
        (&target["missing"], &target["changed"], &target["extra"]),
        (&json(r#"["C"]"#), &json(r#"["B"]"#), &json(r#"["STALE"]"#))
    );
    let before = moto.request_total();
    assert_eq!(publish(&alice, &[]).ok().json()["targets"][0]["writes"], 2);
    assert_eq!(
        moto.request_total() - before,
        2 + 2,
        "one request per changed key"
    );
    assert_eq!(
        listed(&moto)["app/keys/STALE"],
        "old",
        "kept without --prune"
    );
    assert_eq!(
        publish(&alice, &["--prune"]).ok().json()["targets"][0]["writes"],
        1
    );
    assert!(listed(&moto).get("app/keys/STALE").is_none());
    publish(&alice, &["--check", "--prune"]).ok();

    // A pruned key that comes back is restored from its recovery window, then updated.
    alice.write_env(".env", "A=1\nB=three\nC=new\nSTALE=back\n");
    alice.run(&["push"]).ok();
    assert_eq!(publish(&alice, &[]).ok().json()["targets"][0]["writes"], 2);
    assert_eq!(listed(&moto)["app/keys/STALE"], "back");
    publish(&alice, &["--check", "--prune"]).ok();
}

#[test]
fn progress_goes_to_stderr_a_line_per_target_or_a_bar_on_a_terminal() {
    let moto = S3Server::shared();
    let team = Team::new();
    let alice = team.member("alice");
    let secret = format!("aws-sm://app/progress?endpoint={}", moto.endpoint);
    let folder = format!("aws-ssm:///app/progress/?endpoint={}", moto.endpoint);
    add_targets(
        &alice,
        &format!(
            "\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{secret}\"\n\
             \n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{folder}\"\n"
        ),
    );
    alice.write_env(".env", "A=secret-value-1\n");
    alice.run(&["push"]).ok();

    // Not a terminal (a CI log): one line per target on stderr; stdout stays one document.
    let run = publish(&alice, &[]).ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!("[1/2] development -> {secret}"),
            format!("[2/2] development -> {folder}")
        ],
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["targets"].as_array().unwrap().len(), 2);
    let text = alice.run_with_env(&["publish", "--check"], &AWS_ENV).ok();
    assert!(
        text.stderr.contains("[2/2] development -> "),
        "{}",
        text.stderr
    );
    assert!(!text.stdout.contains("[1/2]") && !text.stderr.contains("secret-value-1"));

    // A terminal (`script` gives one): a bar redrawn in place, cleared at the end.
    let binary = env!("CARGO_BIN_EXE_envsync");
    let output = alice
        .program(
            "script",
            &["-qec", &format!("{binary} publish --check"), "/dev/null"],
        )
        .envs(AWS_ENV)
        .output()
        .expect("util-linux `script` is installed");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{screen}");
    assert!(
        screen.contains("\r\x1b[2K[            ") && screen.contains("] 2/2 development -> "),
        "{screen:?}"
    );
    assert!(!screen.contains("[1/2]"), "{screen:?}");
}

#[test]
fn a_first_publish_creates_a_json_secret_in_one_request() {
    // Its own moto, so that the actions counted are this test's alone.
    let moto = S3Server::start(S3Mode::Normal);
    let team = Team::new();
    let alice = team.member("alice");
    let to = format!("aws-sm://app/first?endpoint={}", moto.endpoint);
    add_targets(
        &alice,
        &format!("\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n"),
    );
    alice.write_env(".env", "A=1\n");
    alice.run(&["push"]).ok();
    assert_eq!(publish(&alice, &[]).ok().json()["targets"][0]["writes"], 1);
    let actions: Vec<(String, u64)> = moto.action_counts().into_iter().collect();
    assert_eq!(
        actions,
        [
            ("secretsmanager.CreateSecret".to_owned(), 1),
            ("secretsmanager.GetSecretValue".to_owned(), 1)
        ]
    );
    assert_eq!(
        json(&aws_admin(&moto, "sm-get", "app/first", "")),
        json(r#"{"A":"1"}"#)
    );
}
