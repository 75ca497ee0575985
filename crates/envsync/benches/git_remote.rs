//! `status` and `pull` against a git remote served by smart HTTP (lighttpd + `git
//! http-backend` with basic auth on loopback, as in `tests/every_remote.rs`) whose
//! `development` environment has a 200-version history: wall time of the real binary
//! (process start to exit), the HTTP requests git sent (its `GIT_TRACE_CURL` log, the
//! 401 that asks for credentials included), and the git processes the command started
//! (git's own trace2 events, helpers included).
//!
//! Run with `cargo bench -p envsync --bench git_remote`; needs lighttpd (`scripts/test.sh`
//! installs it).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::Teammate;
use support::git::GitTeam;

const HISTORY: u64 = 200;
const ROUNDS: usize = 15;

struct Sample {
    time: Duration,
    requests: usize,
    /// git processes by subcommand (`fetch`, `cat-file`, `remote-http`, …).
    processes: BTreeMap<String, usize>,
}

fn measure(mate: &Teammate, args: &[&str]) -> Sample {
    let trace = mate.home.join("trace2.json");
    let curl = mate.home.join("curl.log");
    let _ = std::fs::remove_file(&trace);
    let _ = std::fs::remove_file(&curl);
    let started = Instant::now();
    mate.run_with_env(
        args,
        &[
            ("GIT_TRACE2_EVENT", trace.to_str().unwrap()),
            ("GIT_TRACE_CURL", curl.to_str().unwrap()),
            ("GIT_TRACE_CURL_NO_DATA", "1"),
        ],
    )
    .ok();
    let time = started.elapsed();
    let requests = std::fs::read_to_string(&curl)
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            line.contains("=> Send header: GET ") || line.contains("=> Send header: POST ")
        })
        .count();
    let mut processes = BTreeMap::new();
    for line in std::fs::read_to_string(&trace).unwrap_or_default().lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["event"] == "start" {
            let argv: Vec<&str> = event["argv"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|word| word.as_str())
                .collect();
            let name = process_name(&argv);
            *processes.entry(name).or_default() += 1;
        }
    }
    Sample {
        time,
        requests,
        processes,
    }
}

/// `git-remote-http URL` is `remote-http`; `git --git-dir D -c K=V fetch …` is `fetch`.
fn process_name(argv: &[&str]) -> String {
    let program = argv[0].rsplit('/').next().unwrap_or(argv[0]);
    if program != "git" {
        return program.trim_start_matches("git-").to_owned();
    }
    let mut words = argv[1..].iter();
    while let Some(word) = words.next() {
        if ["--git-dir", "-c", "-C"].contains(word) {
            words.next();
        } else if !word.starts_with('-') {
            return (*word).to_owned();
        }
    }
    "git".to_owned()
}

fn report(name: &str, mut samples: Vec<Sample>) {
    samples.sort_by_key(|sample| sample.time);
    let median = &samples[samples.len() / 2];
    let worst = samples[samples.len() - 1].time;
    let total: usize = median.processes.values().sum();
    let by_name: Vec<String> = median
        .processes
        .iter()
        .map(|(name, count)| format!("{count} {name}"))
        .collect();
    let same = samples
        .iter()
        .all(|sample| sample.requests == median.requests && sample.processes == median.processes);
    println!(
        "| {name} | {} | {total} ({}){} | {:.1} ms | {:.1} ms |",
        median.requests,
        by_name.join(", "),
        if same { "" } else { ", varies" },
        median.time.as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let team = GitTeam::http();
    let alice = team.member("alice");
    let bob = team.member("bob");
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

    let status = (0..ROUNDS).map(|_| measure(&bob, &["status"])).collect();
    let mut pull_one_behind = Vec::new();
    let mut push = Vec::new();
    for round in 0..ROUNDS {
        alice.write_env(".env", &format!("{keys}ROUND=alice-{round}\n"));
        alice.run(&["push"]).ok();
        pull_one_behind.push(measure(&bob, &["pull"]));
        bob.write_env(".env", &format!("{keys}ROUND=bob-{round}\n"));
        push.push(measure(&bob, &["push"]));
        alice.run(&["pull"]).ok();
    }
    println!(
        "\n{ROUNDS} runs each; history of {HISTORY}+ versions; project of 2 members, 2 environments\n"
    );
    println!("| command | HTTP requests | git processes | median | slowest |");
    println!("|---|---|---|---|---|");
    report("`envsync status` (2 environments)", status);
    report("`envsync pull`, one version behind", pull_one_behind);
    report("`envsync push`", push);
}
