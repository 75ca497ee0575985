//! Load on a real `envsync server` over loopback: 64 clients, each on its own keep-alive
//! connection, ask as fast as they can for an environment's head, and for what a pull
//! downloads: the head version's record, then its ciphertext, as older clients ask, and the
//! three in one request (`head?with=version`), as `pull` and `run --remote` ask now. Reports
//! requests per second
//! and latency percentiles, for SQLite and for PostgreSQL. The load generator runs on the
//! same machine, so it competes with the server for the CPU: the figures are a floor.
//!
//! Two load generators: this binary's own (64 threads, blocking HTTP/1.1 clients), which is
//! heavy enough to take much of the CPU from the server on a small machine, and, when it is
//! installed, `wrk` (Debian package `wrk`; 2 threads, 64 connections, with a Lua script for
//! the pull's two paths), which is light and shows what the server itself sustains.
//!
//! Run with `cargo bench -p envsync --bench server_load` (PostgreSQL on 127.0.0.1:5432, as
//! `scripts/test.sh` ensures; `ENVSYNC_BENCH_SECONDS` sets each run's length, default 10).

#[path = "../tests/support/mod.rs"]
mod support;

use std::rc::Rc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use support::protocol::{Founded, Place, join, person, push};
use support::server::{Api, PgDatabase, Server};

const CLIENTS: usize = 64;

struct Target {
    url: String,
    token: String,
    head: String,
    head_version: String,
    version: String,
    object: String,
}

/// Owner joins with the setup code, creates project `bench`, pushes one signed version (an
/// encrypted-size blob of 2 KiB).
fn prepare(server: &Server) -> Target {
    let api = Api::new(&server.url);
    let identity = Rc::new(person("Bench"));
    let token = join(&api, server.setup_code.as_deref().unwrap(), &identity);
    let founded = Founded::found(&api, "bench", identity, token.clone());
    let place = Place {
        project: "bench",
        environment: "production",
    };
    let ciphertext = vec![7u8; 2048];
    let record = founded.first_version(place, &founded.owner, &ciphertext);
    let reply = push(&api, &token, &record, &ciphertext);
    assert_eq!(reply.status, 201, "{}", reply.body);
    let environment = "/api/v1/projects/bench/environments/production";
    Target {
        url: server.url.clone(),
        token,
        head: format!("{environment}/head"),
        head_version: format!("{environment}/head?with=version"),
        version: format!("{environment}/versions/1"),
        object: format!("{environment}/objects/{}", record.body.ciphertext_sha256),
    }
}

/// Runs `CLIENTS` threads for `seconds`, each sending `paths` in turn; returns requests per
/// second and the sorted latencies.
fn load(target: &Target, paths: &[&str], seconds: u64) -> (f64, Vec<Duration>) {
    let start = Arc::new(Barrier::new(CLIENTS + 1));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let start = Arc::clone(&start);
            let url = target.url.clone();
            let token = target.token.clone();
            let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
            std::thread::spawn(move || {
                let api = Api::new(&url);
                let mut latencies = Vec::with_capacity(100_000);
                start.wait();
                let deadline = Instant::now() + Duration::from_secs(seconds);
                'run: loop {
                    for path in &paths {
                        let sent = Instant::now();
                        let reply = api.get(path, Some(&token));
                        latencies.push(sent.elapsed());
                        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
                        if Instant::now() >= deadline {
                            break 'run;
                        }
                    }
                }
                latencies
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut latencies: Vec<Duration> = workers
        .into_iter()
        .flat_map(|worker| worker.join().unwrap())
        .collect();
    let elapsed = began.elapsed().as_secs_f64();
    latencies.sort_unstable();
    (latencies.len() as f64 / elapsed, latencies)
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1);
    sorted[index].as_secs_f64() * 1000.0
}

/// The same load from `wrk`, if installed: (requests per second, p50 ms, p99 ms, max ms).
fn wrk(target: &Target, paths: &[&str], seconds: u64) -> Option<(f64, f64, f64, f64)> {
    let script = tempfile::NamedTempFile::new().ok()?;
    let list: Vec<String> = paths.iter().map(|path| format!("\"{path}\"")).collect();
    std::fs::write(
        script.path(),
        format!(
            "local paths = {{{}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n",
            list.join(", ")
        ),
    )
    .ok()?;
    let output = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CLIENTS}"),
            &format!("-d{seconds}s"),
            "--latency",
        ])
        .args(["-H", &format!("Authorization: Bearer {}", target.token)])
        .arg("-s")
        .arg(script.path())
        .arg(&target.url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let number = |prefix: &str| -> Option<f64> {
        let line = text
            .lines()
            .find(|line| line.trim_start().starts_with(prefix))?;
        milliseconds(line.split_whitespace().nth(1)?)
    };
    let rate = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let max = text
        .lines()
        .find(|line| line.trim_start().starts_with("Latency"))
        .and_then(|line| milliseconds(line.split_whitespace().nth(3)?));
    Some((rate, number("50%")?, number("99%")?, max?))
}

/// `2.12ms`, `850.00us`, `1.20s` in milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let (value, scale) = if let Some(value) = text.strip_suffix("ms") {
        (value, 1.0)
    } else if let Some(value) = text.strip_suffix("us") {
        (value, 0.001)
    } else if let Some(value) = text.strip_suffix('s') {
        (value, 1000.0)
    } else {
        return None;
    };
    value.parse::<f64>().ok().map(|value| value * scale)
}

fn bench(store: &str, server: &Server, seconds: u64) {
    let target = prepare(server);
    // Warm up connections and caches.
    load(&target, &[&target.head], 1);
    for (name, paths) in [
        ("head", vec![target.head.as_str()]),
        (
            "pull (record + ciphertext)",
            vec![target.version.as_str(), target.object.as_str()],
        ),
        (
            "pull in one request (head?with=version)",
            vec![target.head_version.as_str()],
        ),
    ] {
        let (rate, latencies) = load(&target, &paths, seconds);
        println!(
            "| {store} | {name} | built-in, 64 threads | {:.0} req/s | {:.2} ms | {:.2} ms | {:.2} ms |",
            rate,
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0),
        );
        if let Some((rate, p50, p99, max)) = wrk(&target, &paths, seconds) {
            println!(
                "| {store} | {name} | wrk, 64 connections | {rate:.0} req/s | {p50:.2} ms | {p99:.2} ms | {max:.2} ms |"
            );
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let seconds = std::env::var("ENVSYNC_BENCH_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(10);
    println!("| store | requests | load generator | throughput | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|---|");
    let directory = tempfile::tempdir().unwrap();
    let sqlite = Server::sqlite(directory.path());
    bench("SQLite", &sqlite, seconds);
    drop(sqlite);
    let database = PgDatabase::create();
    let postgres = Server::postgres(&database.url);
    bench("PostgreSQL", &postgres, seconds);
}
