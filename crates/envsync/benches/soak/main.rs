//! The soak run: one real `envsync server` under a steady load for a bounded time
//! (`SOAK_SECONDS`, default 600): 50 writers each push a signed version to an environment of
//! their own once a second (`SOAK_WRITERS`, `SOAK_PUSH_INTERVAL_MS`) through the API, while
//! 500 watchers (`SOAK_WATCHERS`) hold `/api/v1/events` WebSockets open and count the events
//! they hear. Meanwhile the server process's resident memory and open descriptors are read
//! from `/proc/PID/status` and `/proc/PID/fd` every 2 s, with its `/metrics`.
//!
//! The database is SQLite, or PostgreSQL with `SOAK_DATABASE=postgres` (a fresh database
//! on the test server, 127.0.0.1:5432 or `ENVSYNC_TEST_POSTGRES_URL`, dropped afterwards).
//!
//! The server runs with `--record-cache-mib` of `SOAK_RECORD_CACHE_MIB` (default 4). Its
//! read cache of immutable records grows with every push (each reads its base version) until
//! it is full, then starts over: memory climbs by design until the first fill. At 50 pushes
//! a second the default 64 MiB fills after about half an hour, so a 10-minute soak with it
//! would see only the climb; 4 MiB fills within about two minutes, after which the run
//! judges whether anything else grows, and the cache starts over several times meanwhile.
//! Memory is judged from the first time `/metrics` shows the cache full: the mean of the
//! first minute after it against the mean of the last (a third of that span each when it is
//! shorter than three minutes). A run in which the cache never fills is a failure, as its
//! memory could not be judged.
//!
//! It reports throughput, push latency (p50, p99, max), events delivered against those
//! due, and the server's RSS and descriptors. It exits non-zero when an acknowledged push
//! is not on the server afterwards (with its ciphertext's digest), when a watcher missed an
//! event, when the last window's RSS is more than `SOAK_RSS_MARGIN_PERCENT` (default 20)
//! above the first's, or its descriptors more than `SOAK_FD_MARGIN` (default 16) above.
//! Writers, watchers and server share the machine.
//!
//! Run with `cargo bench -p envsync --bench soak` (`SOAK_SECONDS=180` for a shorter run).
//! The server and this process each hold one socket per watcher: with more than about 900
//! watchers, raise the open-files limit first (`ulimit -n 4096`).

#[path = "../../tests/support/mod.rs"]
mod support;

mod load;
mod sampler;

use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use envsync_client::credentials::Token;
use envsync_client::remote::{HttpRemote, Remote};
use envsync_client::server_api::ApiClient;
use load::{WriterPlan, Written};
use support::protocol::{Founded, join, person};
use support::server::{Api, PgDatabase, Server};

struct Settings {
    postgres: bool,
    record_cache_mib: u64,
    seconds: u64,
    writers: usize,
    watchers: usize,
    interval: Duration,
    rss_margin_percent: f64,
    fd_margin: f64,
}

impl Settings {
    fn from_environment() -> Self {
        let database = std::env::var("SOAK_DATABASE").unwrap_or_default();
        assert!(
            ["", "sqlite", "postgres"].contains(&database.as_str()),
            "SOAK_DATABASE is `{database}`: sqlite or postgres"
        );
        Self {
            postgres: database == "postgres",
            record_cache_mib: setting("SOAK_RECORD_CACHE_MIB", 4),
            seconds: setting("SOAK_SECONDS", 600),
            writers: setting("SOAK_WRITERS", 50) as usize,
            watchers: setting("SOAK_WATCHERS", 500) as usize,
            interval: Duration::from_millis(setting("SOAK_PUSH_INTERVAL_MS", 1000)),
            rss_margin_percent: setting("SOAK_RSS_MARGIN_PERCENT", 20) as f64,
            fd_margin: setting("SOAK_FD_MARGIN", 16) as f64,
        }
    }

    /// The server, on a fresh database of the chosen kind (kept alive beside it).
    fn server(&self, directory: &std::path::Path) -> (Server, Option<PgDatabase>) {
        let postgres = self.postgres.then(PgDatabase::create);
        let mut args = match &postgres {
            Some(database) => vec!["--database-url".to_owned(), database.url.clone()],
            None => vec!["--data-dir".to_owned(), directory.display().to_string()],
        };
        args.extend([
            "--record-cache-mib".to_owned(),
            self.record_cache_mib.to_string(),
        ]);
        (Server::start(args), postgres)
    }
}

/// The length of the first and last windows compared over `span` seconds: a minute, or a
/// third of a short span.
fn window(span: f64) -> f64 {
    (span / 3.0).min(60.0)
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|argument| argument == "--bench") {
        return ExitCode::SUCCESS;
    }
    let settings = Settings::from_environment();
    let directory = tempfile::tempdir().unwrap();
    let (server, postgres) = settings.server(directory.path());
    println!(
        "database: {}; record cache: {} MiB",
        if settings.postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        settings.record_cache_mib
    );
    let api = Api::new(&server.url);
    let owner = Rc::new(person("Soak"));
    let token = join(&api, server.setup_code.as_deref().unwrap(), &owner);
    let identity_file = owner.to_identity_file("2026-01-01T00:00:00Z").to_string();
    Founded::found(&api, "soak", owner, token.clone());

    let client = ApiClient::new(&server.url, Some(Token::new(token.clone()))).unwrap();
    let source = HttpRemote::new(client)
        .events()
        .expect("a server has events");
    let heard = load::watchers(&source, settings.watchers);
    // The server subscribes a socket just after its handshake: let the last ones settle.
    std::thread::sleep(Duration::from_secs(1));
    if let Some((rss_kib, _, fds)) = sampler::read(server.pid()) {
        println!(
            "server at rest with {} event streams: RSS {:.1} MiB, {fds} descriptors",
            settings.watchers,
            rss_kib as f64 / 1024.0
        );
    }

    let began = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let watched = (server.pid(), server.url.clone());
    let sampling = sampler::start(watched, began, Duration::from_secs(2), stop.clone());
    let plan = WriterPlan {
        url: server.url.clone(),
        token: token.clone(),
        identity_file,
        interval: settings.interval,
        deadline: began + Duration::from_secs(settings.seconds),
    };
    let written = write(&plan, settings.writers);
    let elapsed = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Release);
    let samples = sampling.join().unwrap();

    let stored = verify(&api, &token, &written);
    let due = stored.versions;
    let deadline = Instant::now() + Duration::from_secs(60);
    while heard.total() < due * settings.watchers as u64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    heard.stop.store(true, Ordering::Release);
    let failures = report(&settings, &written, &stored, &heard, &samples, elapsed);
    drop(server);
    drop(postgres);
    if failures.is_empty() {
        println!("soak: ok");
        ExitCode::SUCCESS
    } else {
        for failure in failures {
            eprintln!("soak: FAILED: {failure}");
        }
        ExitCode::FAILURE
    }
}

/// Runs `count` writers to the plan's deadline.
fn write(plan: &WriterPlan, count: usize) -> Vec<Written> {
    let threads: Vec<_> = (0..count)
        .map(|index| {
            let plan = plan.clone();
            let environment: &'static str = Box::leak(format!("w{index:03}").into_boxed_str());
            std::thread::spawn(move || load::writer(plan, environment))
        })
        .collect();
    threads
        .into_iter()
        .map(|thread| thread.join().expect("a writer finished"))
        .collect()
}

/// What the server holds afterwards.
struct Stored {
    /// Versions stored in all (acknowledged or not): the events every watcher is due.
    versions: u64,
    /// Acknowledged versions missing, or holding another ciphertext.
    lost: Vec<String>,
    /// The bytes of every record but each environment's head: what the server's read cache
    /// of immutable records holds by now (each push reads its base record), up to its budget.
    cached_record_bytes: usize,
}

/// Reads every writer's environment back, page by page, and checks each acknowledged
/// version is there with the ciphertext digest that was pushed.
fn verify(api: &Api, token: &str, written: &[Written]) -> Stored {
    let mut stored = Stored {
        versions: 0,
        lost: Vec::new(),
        cached_record_bytes: 0,
    };
    for writer in written {
        let path = envsync_api::paths::versions("soak", writer.environment);
        let mut digests = std::collections::HashMap::new();
        loop {
            let after = digests.len();
            let page = api.get(&format!("{path}?after={after}&limit=1000"), Some(token));
            assert_eq!(page.status, 200, "{}", page.body);
            let records = page.json()["records"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for record in &records {
                stored.cached_record_bytes += record.to_string().len();
                let number = record["body"]["number"].as_u64().unwrap();
                let digest = record["body"]["ciphertext_sha256"].as_str().unwrap();
                digests.insert(number, digest.to_owned());
            }
            if records.is_empty() {
                break;
            }
        }
        stored.versions += digests.len() as u64;
        if let Some(head) = records_head_bytes(api, token, &path, digests.len()) {
            stored.cached_record_bytes -= head;
        }
        for (number, digest) in &writer.acknowledged {
            if digests.get(number) != Some(digest) {
                stored
                    .lost
                    .push(format!("{} version {number}", writer.environment));
            }
        }
    }
    stored
}

/// The size of the head record of the environment at `path` (never read as a base).
fn records_head_bytes(api: &Api, token: &str, path: &str, head: usize) -> Option<usize> {
    let after = head.checked_sub(1)?;
    let page = api.get(&format!("{path}?after={after}&limit=1"), Some(token));
    Some(page.json()["records"][0].to_string().len())
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1);
    sorted[index].as_secs_f64() * 1000.0
}

/// Prints the figures; returns what failed.
fn report(
    settings: &Settings,
    written: &[Written],
    stored: &Stored,
    heard: &load::Heard,
    samples: &[sampler::Sample],
    elapsed: f64,
) -> Vec<String> {
    let mut latencies: Vec<Duration> = written
        .iter()
        .flat_map(|writer| writer.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let acknowledged = latencies.len() as u64;
    let failed: u64 = written.iter().map(|writer| writer.failures).sum();
    let due = stored.versions * settings.watchers as u64;
    println!(
        "| {} s | {} writers every {} ms | {} watchers | {acknowledged} pushes ({:.1}/s) | \
         {failed} not acknowledged | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms | \
         events {} of {due} | {} reconnects |",
        settings.seconds,
        settings.writers,
        settings.interval.as_millis(),
        settings.watchers,
        acknowledged as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        heard.total(),
        heard.reconnects.load(Ordering::Relaxed),
    );
    let mut failures = Vec::new();
    if !stored.lost.is_empty() {
        failures.push(format!(
            "{} acknowledged pushes are not on the server: {:?}",
            stored.lost.len(),
            &stored.lost[..stored.lost.len().min(10)]
        ));
    }
    let short = heard.short_of(stored.versions);
    if short > 0 {
        failures.push(format!("{short} watchers missed events"));
    }
    println!(
        "records a push reads (the server's read cache keeps them, up to {} MiB): {:.1} MiB",
        settings.record_cache_mib,
        stored.cached_record_bytes as f64 / 1_048_576.0
    );
    failures.extend(growth(settings, samples));
    failures
}

/// The server's RSS and descriptors over time, and whether they stayed flat.
fn growth(settings: &Settings, samples: &[sampler::Sample]) -> Vec<String> {
    let every = (samples.len() / 10).max(1);
    let mib = |kib: f64| kib / 1024.0;
    let series: Vec<String> = samples
        .iter()
        .step_by(every)
        .map(|s| {
            let (rss, anonymous) = (mib(s.rss_kib as f64), mib(s.anonymous_kib as f64));
            format!(
                "{:.0}s {rss:.1} MiB ({anonymous:.1} anon) {} fds",
                s.at, s.fds
            )
        })
        .collect();
    println!("server over time: {}", series.join(", "));
    let end = settings.seconds as f64;
    // Two windows of at least 10 s (5 samples each) after the cache is full.
    let Some(full_at) = sampler::cache_full_at(samples).filter(|at| end - at >= 30.0) else {
        return vec![format!(
            "the record cache ({} MiB) was not full 30 s before the end, so memory was not \
             judged: lengthen SOAK_SECONDS or lower SOAK_RECORD_CACHE_MIB",
            settings.record_cache_mib
        )];
    };
    let window = window(end - full_at);
    let (first_rss, first_anonymous, first_fds) =
        sampler::window(samples, full_at, full_at + window);
    let (last_rss, last_anonymous, last_fds) = sampler::window(samples, end - window, end + 1.0);
    let rss_growth = (last_rss / first_rss - 1.0) * 100.0;
    let anonymous_growth = (last_anonymous / first_anonymous - 1.0) * 100.0;
    let resets = samples.last().map_or(0, |sample| sample.cache_resets);
    println!("record cache first full at {full_at:.0} s; started over {resets} times in the run");
    println!(
        "| window | RSS | anonymous RSS | descriptors |\n| first {window:.0} s after \
         {full_at:.0} s | {:.1} MiB | {:.1} MiB | {first_fds:.1} |\n| last {window:.0} s | \
         {:.1} MiB | {:.1} MiB | {last_fds:.1} |\n| growth | {rss_growth:+.1} % | \
         {anonymous_growth:+.1} % | {:+.1} |",
        mib(first_rss),
        mib(first_anonymous),
        mib(last_rss),
        mib(last_anonymous),
        last_fds - first_fds,
    );
    let mut failures = Vec::new();
    if rss_growth > settings.rss_margin_percent {
        failures.push(format!(
            "the server's RSS grew {rss_growth:.1} % (margin {} %)",
            settings.rss_margin_percent
        ));
    }
    if last_fds - first_fds > settings.fd_margin {
        failures.push(format!(
            "the server's open descriptors grew by {:.1} (margin {})",
            last_fds - first_fds,
            settings.fd_margin
        ));
    }
    failures
}
