//! What is particular to S3 buckets: the real binary against a real S3 server process
//! (moto, on a free loopback port; see `support::S3Server`). No plaintext in the bucket,
//! forgeries refused, stores without conditional writes refused, request counts, and clear
//! errors that change nothing locally. The everyday scenarios every remote shares, the race
//! of many pushers included, are in `every_remote.rs`.

mod support;

use support::bucket::BucketTeam;
use support::remotes::alice_and_bob;
use support::{S3Mode, S3Server, Team, Teammate};

#[test]
fn tampered_records_and_ciphertexts_are_refused_and_a_forged_hint_is_harmless() {
    let team = BucketTeam::new();
    let (alice, bob) = alice_and_bob(&team);
    alice.write_env(".env", "A=3\n");
    alice.run(&["push", "-m", "three"]).ok();

    team.put("environments/development/head", b"999999\n");
    assert_eq!(bob.badge("development"), "update_available");
    let status = bob.run(&["status", "--json"]).ok().document("Status");
    assert_eq!(status["environments"][0]["remote_version"], 3);
    team.server
        .delete_object(&team.bucket, &team.key("environments/development/head"));
    assert_eq!(bob.badge("development"), "update_available");

    let record_key = team.version_key(3);
    let original = team.server.object(&team.bucket, &record_key).unwrap();
    let forged = String::from_utf8(original.clone())
        .unwrap()
        .replace("\"three\"", "\"innocent\"");
    team.server
        .put_object(&team.bucket, &record_key, forged.as_bytes());
    // Bob's status verified version 3, so the edit reads as a rewrite of what he saw.
    let refused = bob.run(&["pull"]).code(6);
    assert!(
        refused.stderr.contains("was rewritten"),
        "{}",
        refused.stderr
    );
    assert!(!bob.read_env(".env").contains("A=3"));
    team.server.put_object(&team.bucket, &record_key, &original);

    let object = team.ciphertext_key(3);
    let mut bytes = team.object(&object);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    team.put(&object, &bytes);
    let refused = bob.run(&["pull"]).code(6);
    assert!(refused.stderr.contains("corrupt"), "{}", refused.stderr);
    assert!(!bob.read_env(".env").contains("A=3"));
}

/// The workspace's files, to show that a failed command wrote nothing.
fn listing(mate: &Teammate) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(&mate.workspace)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_default();
            (path.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[track_caller]
fn assert_one_line_remote_error(stderr: &str, names: &str, says: &str) {
    let lines: Vec<&str> = stderr.trim().lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(names) && lines[0].contains(says),
        "{stderr}"
    );
    assert!(
        !stderr.contains("secret-of-"),
        "no credentials in messages: {stderr}"
    );
}

#[test]
fn a_missing_bucket_and_an_unreachable_store_are_one_line_errors_that_change_nothing() {
    let server = S3Server::shared();
    let team = Team::new();
    let url = format!(
        "s3://envsync-no-such-bucket/team?endpoint={}",
        server.endpoint
    );
    let mate = team.member_of("alice", &url);
    mate.use_aws_profile();
    mate.write_env(".env", "A=1\n");
    let before = listing(&mate);
    for command in [&["status"][..], &["push"], &["pull"], &["log"]] {
        let failed = mate.run(command).code(1);
        assert_one_line_remote_error(
            &failed.stderr,
            "s3://envsync-no-such-bucket/team",
            "bucket does not exist",
        );
    }
    assert_eq!(listing(&mate), before);

    // Port 1 (tcpmux) has no listener here; a port freed by the test could be taken by a
    // server another test starts meanwhile.
    let port = 1;
    let other = team.member_of(
        "bob",
        &format!("s3://envsync-any/team?endpoint=http://127.0.0.1:{port}"),
    );
    other.use_aws_profile();
    other.write_env(".env", "A=1\n");
    let before = listing(&other);
    let started = std::time::Instant::now();
    for command in [&["status"][..], &["push"]] {
        let failed = other.run(command).code(1);
        assert_one_line_remote_error(
            &failed.stderr,
            &format!("127.0.0.1:{port}"),
            "cannot connect",
        );
    }
    assert!(
        started.elapsed().as_secs() < 20,
        "fails fast: {:?}",
        started.elapsed()
    );
    assert_eq!(listing(&other), before);
}

#[test]
fn a_store_without_conditional_writes_is_refused_before_anything_is_written() {
    let server = S3Server::start(S3Mode::IgnoresConditionalWrites);
    let team = BucketTeam::on(&server);
    let alice = team.member("alice");
    alice.write_env(".env", "A=1\n");
    let refused = alice.run(&["push"]).code(1);
    assert_one_line_remote_error(&refused.stderr, &team.bucket, "ignores conditional writes");
    let keys: Vec<String> = server
        .objects(&team.bucket)
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert!(
        keys.iter()
            .all(|key| !key.contains("/versions/") && !key.contains("/members/")),
        "{keys:?}"
    );

    let normal = BucketTeam::new();
    let bob = normal.member("bob");
    bob.write_env(".env", "A=1\n");
    let refused = bob
        .run_with_env(&["push"], &[("AWS_CONDITIONAL_PUT", "disabled")])
        .code(1);
    assert_one_line_remote_error(
        &refused.stderr,
        &normal.bucket,
        "conditional writes (create only if absent) are turned off",
    );
    bob.run(&["push"]).ok();
}

#[test]
fn credentials_and_endpoint_may_come_from_the_environment() {
    let server = S3Server::shared();
    let bucket = server.bucket("envsync-env");
    let team = Team::new();
    let mate = team.member_of("carol", &format!("s3://{bucket}/team"));
    let env = [
        ("AWS_ENDPOINT_URL", server.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIACAROL"),
        ("AWS_SECRET_ACCESS_KEY", "secret-of-carol"),
        ("AWS_REGION", "eu-west-1"),
    ];
    mate.write_env(".env", "A=1\n");
    mate.run_with_env(&["push"], &env).ok();
    let status = mate
        .run_with_env(&["status", "--json"], &env)
        .ok()
        .document("Status");
    assert_eq!(status["environments"][0]["badge"], "synced");
    assert!(
        server
            .objects(&bucket)
            .iter()
            .any(|(key, _)| key == "team/app/environments/development/versions/00000001.json")
    );
}

#[test]
fn status_costs_the_same_few_requests_however_long_the_history() {
    let server = S3Server::start(S3Mode::Normal);
    let team = BucketTeam::on(&server);
    let alice = team.member("alice");
    let mut costs = Vec::new();
    for round in 1..=24 {
        alice.write_env(".env", &format!("A={round}\n"));
        alice.run(&["push"]).ok();
        if round == 2 || round == 24 {
            let before = server.request_total();
            alice.run(&["status"]).ok();
            costs.push(server.request_total() - before);
        }
    }
    assert_eq!(
        costs[0], costs[1],
        "status requests at 2 and 24 versions: {costs:?}"
    );
    assert!(costs[1] <= 12, "status requests: {costs:?}");
}
