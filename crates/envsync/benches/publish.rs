//! `envsync publish` of a 200-key environment to moto's Secrets Manager (one JSON secret, and
//! one secret per key) and SSM Parameter Store: wall time of the real binary (process start
//! to exit) and the requests it makes, counted by the server by `X-Amz-Target` action, for a
//! first publish, a second one with nothing changed, and one after a single key changed.
//!
//! Run with `cargo bench -p envsync --bench publish`; needs `python3` with `moto[server]`
//! (`scripts/test.sh` installs it).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::stores::AWS_ENV;
use support::{S3Mode, S3Server, Team, Teammate};

const KEYS: usize = 200;
const ROUNDS: usize = 7;

/// The three kinds of target, by the URL they are published to in round `round`.
const KINDS: [(&str, &str); 3] = [
    (
        "Secrets Manager, one JSON secret",
        "aws-sm://bench/json-{round}",
    ),
    (
        "Secrets Manager, one secret per key",
        "aws-sm://bench/keys-{round}/*",
    ),
    ("SSM Parameter Store", "aws-ssm:///bench/ssm-{round}/"),
];

struct Sample {
    time: Duration,
    actions: BTreeMap<String, u64>,
}

fn target(kind: usize, round: usize, server: &S3Server) -> String {
    let url = KINDS[kind].1.replace("{round}", &round.to_string());
    format!("{url}?endpoint={}", server.endpoint)
}

/// Publishes to one target, timing it and counting the actions the server saw meanwhile.
fn measure(server: &S3Server, alice: &Teammate, to: &str) -> Sample {
    let before = server.action_counts();
    let started = Instant::now();
    let run = alice.run_with_env(&["publish", "--to", to], &AWS_ENV).ok();
    let time = started.elapsed();
    drop(run);
    let mut actions = server.action_counts();
    for (action, count) in &before {
        *actions.entry(action.clone()).or_default() -= count;
    }
    actions.retain(|_, count| *count > 0);
    Sample { time, actions }
}

fn report(name: &str, run: &str, mut samples: Vec<Sample>) {
    samples.sort_by_key(|sample| sample.time);
    let median = samples[samples.len() / 2].time;
    let worst = samples[samples.len() - 1].time;
    let actions = &samples[samples.len() / 2].actions;
    let total: u64 = actions.values().sum();
    let by_action: Vec<String> = actions
        .iter()
        .map(|(action, count)| {
            let short = action.rsplit('.').next().unwrap_or(action);
            format!("{count} {short}")
        })
        .collect();
    let same = samples.iter().all(|sample| &sample.actions == actions);
    println!(
        "| {name} | {run} | {total} ({}){} | {:.1} ms | {:.1} ms |",
        by_action.join(", "),
        if same { "" } else { ", varies" },
        median.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0,
    );
}

fn environment(changed: &str) -> String {
    let mut text: String = (0..KEYS)
        .map(|key| format!("KEY_{key:03}=value-{key:03}-abcdefghijklmnopqrstuvwxyz\n"))
        .collect();
    text = text.replace("value-000-", &format!("value-000-{changed}-"));
    text
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let server = S3Server::start(S3Mode::Normal);
    let team = Team::new();
    let alice = team.member("alice");
    let mut config = std::fs::read_to_string(alice.workspace.join("envsync.toml")).unwrap();
    for round in 0..ROUNDS {
        for kind in 0..KINDS.len() {
            let to = target(kind, round, &server);
            config.push_str(&format!(
                "\n[[projects.app.publish]]\nenvironment = \"development\"\nto = \"{to}\"\n"
            ));
        }
    }
    std::fs::write(alice.workspace.join("envsync.toml"), config).unwrap();

    let mut samples: Vec<[Vec<Sample>; 3]> = (0..KINDS.len()).map(|_| Default::default()).collect();
    for round in 0..ROUNDS {
        alice.write_env(".env", &environment(&format!("r{round}")));
        alice.run(&["push"]).ok();
        for (kind, runs) in samples.iter_mut().enumerate() {
            let to = target(kind, round, &server);
            runs[0].push(measure(&server, &alice, &to));
            runs[1].push(measure(&server, &alice, &to));
        }
        alice.write_env(".env", &environment(&format!("r{round}-changed")));
        alice.run(&["push"]).ok();
        for (kind, runs) in samples.iter_mut().enumerate() {
            runs[2].push(measure(&server, &alice, &target(kind, round, &server)));
        }
    }
    println!("\n{ROUNDS} runs each; an environment of {KEYS} keys, a fresh target each round\n");
    println!("| target | publish | requests (by action) | median | slowest |");
    println!("|---|---|---|---|---|");
    for (kind, runs) in samples.into_iter().enumerate() {
        let runs_named = ["first", "again, nothing changed", "1 key changed"];
        for (run, taken) in runs.into_iter().enumerate() {
            report(KINDS[kind].0, runs_named[run], taken);
        }
    }
}
