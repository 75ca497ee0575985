//! `status`, `pull` and `push` against a bucket with a 200-version history: wall time of the
//! real binary (process start to exit) and the S3 requests each one makes, counted by the
//! local S3 server (moto on loopback, as in `tests/s3.rs`).
//!
//! Run with `cargo bench -p envsync --bench bucket`; needs `python3` with `moto[server]`
//! (`scripts/test.sh` installs it).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::{S3Mode, S3Server, Team, Teammate};

const HISTORY: u64 = 200;
const ROUNDS: usize = 15;

struct Sample {
    time: Duration,
    requests: BTreeMap<String, u64>,
}

/// Runs `command` once, timing it and counting the requests the server saw meanwhile.
fn measure(server: &S3Server, mate: &Teammate, args: &[&str]) -> Sample {
    let before = server.request_counts();
    let started = Instant::now();
    mate.run(args).ok();
    let time = started.elapsed();
    let mut requests = server.request_counts();
    for (method, count) in &before {
        *requests.entry(method.clone()).or_default() -= count;
    }
    requests.retain(|_, count| *count > 0);
    Sample { time, requests }
}

fn report(name: &str, mut samples: Vec<Sample>) {
    samples.sort_by_key(|sample| sample.time);
    let median = samples[samples.len() / 2].time;
    let worst = samples[samples.len() - 1].time;
    let requests = &samples[samples.len() / 2].requests;
    let total: u64 = requests.values().sum();
    let by_method: Vec<String> = requests
        .iter()
        .map(|(method, count)| format!("{count} {method}"))
        .collect();
    let same = samples.iter().all(|sample| &sample.requests == requests);
    println!(
        "| {name} | {total} ({}){} | {:.1} ms | {:.1} ms |",
        by_method.join(", "),
        if same { "" } else { ", varies" },
        median.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let server = S3Server::start(S3Mode::Normal);
    let bucket = server.bucket("envsync-bench");
    let team = Team::new();
    let url = format!("s3://{bucket}/team?endpoint={}", server.endpoint);
    let alice = team.member_of("alice", &url);
    let bob = team.member_of("bob", &url);
    for mate in [&alice, &bob] {
        mate.use_aws_profile();
    }
    let keys: String = (0..30)
        .map(|key| format!("KEY_{key}=value-{key}\n"))
        .collect();
    eprintln!("pushing {HISTORY} versions…");
    for version in 1..=HISTORY {
        alice.write_env(".env", &format!("{keys}VERSION={version}\n"));
        alice.run(&["push"]).ok();
    }
    alice
        .run(&["members", "add", &bob.member_key(), "--name", "bob"])
        .ok();
    bob.run(&["pull", "--yes"]).ok();

    let status = (0..ROUNDS)
        .map(|_| measure(&server, &bob, &["status"]))
        .collect();
    let mut pull_one_behind = Vec::new();
    let mut pull_fresh = Vec::new();
    let mut push = Vec::new();
    for round in 0..ROUNDS {
        alice.write_env(".env", &format!("{keys}ROUND=alice-{round}\n"));
        alice.run(&["push"]).ok();
        pull_one_behind.push(measure(&server, &bob, &["pull"]));
        std::fs::remove_dir_all(bob.workspace.join(".envsync")).unwrap();
        std::fs::remove_file(bob.workspace.join(".env")).unwrap();
        pull_fresh.push(measure(&server, &bob, &["pull", "--yes"]));
        bob.write_env(".env", &format!("{keys}ROUND=bob-{round}\n"));
        push.push(measure(&server, &bob, &["push"]));
        alice.run(&["pull"]).ok();
    }
    let head = bob.run(&["status", "--json"]).ok().json()["environments"][0]["remote_version"]
        .as_u64()
        .unwrap_or_default();
    println!(
        "\n{ROUNDS} runs each; history {HISTORY} versions at the start, {head} at the end; project of 2 members, 2 environments\n"
    );
    println!("| command | S3 requests | median | slowest |");
    println!("|---|---|---|---|");
    report("`envsync status` (2 environments)", status);
    report("`envsync pull`, one version behind", pull_one_behind);
    report("`envsync pull`, fresh clone", pull_fresh);
    report("`envsync push`", push);
}
