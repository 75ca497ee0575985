//! The server process seen from outside: its resident memory (`VmRSS` in
//! `/proc/PID/status`), its open descriptors (the entries of `/proc/PID/fd`) and how often
//! its record cache has been full (`/metrics`), sampled on a thread of their own while the
//! load runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::server::Api;

/// One reading: seconds since the load began, resident KiB (in all, and the anonymous part:
/// the heap, where a leak would show, as against mapped files and shared memory), open
/// descriptors, and how many times the record cache has been full and started over.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: f64,
    pub rss_kib: u64,
    pub anonymous_kib: u64,
    pub fds: u64,
    pub cache_resets: u64,
}

/// `envsync_record_cache_resets` from the server's `/metrics`.
fn cache_resets(api: &Api) -> Option<u64> {
    let text = api.get("/metrics", None).body;
    let line = text
        .lines()
        .find(|line| line.starts_with("envsync_record_cache_resets "))?;
    line.rsplit(' ').next()?.parse().ok()
}

/// `(VmRSS, RssAnon, descriptors)` of `pid`.
pub fn read(pid: u32) -> Option<(u64, u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((field("VmRSS:")?, field("RssAnon:")?, fds))
}

/// Samples `pid` every `every` from `began` until `stop` is set.
pub fn start(
    (pid, url): (u32, String),
    began: Instant,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Vec<Sample>> {
    std::thread::spawn(move || {
        let api = Api::new(&url);
        let mut samples = Vec::new();
        while !stop.load(Ordering::Acquire) {
            if let Some((rss_kib, anonymous_kib, fds)) = read(pid) {
                let at = began.elapsed().as_secs_f64();
                samples.push(Sample {
                    at,
                    rss_kib,
                    anonymous_kib,
                    fds,
                    cache_resets: cache_resets(&api).unwrap_or(0),
                });
            }
            std::thread::sleep(every);
        }
        samples
    })
}

/// The mean RSS (KiB), anonymous RSS (KiB) and descriptor count of the samples taken in
/// `[from, to)` seconds.
pub fn window(samples: &[Sample], from: f64, to: f64) -> (f64, f64, f64) {
    let inside: Vec<&Sample> = samples
        .iter()
        .filter(|sample| sample.at >= from && sample.at < to)
        .collect();
    let count = inside.len().max(1) as f64;
    let rss = inside
        .iter()
        .map(|sample| sample.rss_kib as f64)
        .sum::<f64>()
        / count;
    let anonymous = inside
        .iter()
        .map(|sample| sample.anonymous_kib as f64)
        .sum::<f64>()
        / count;
    let fds = inside.iter().map(|sample| sample.fds as f64).sum::<f64>() / count;
    (rss, anonymous, fds)
}

/// When the record cache was first full (it started over): the server's memory is judged
/// from then on, as until then it grows by the cache's filling, by design.
pub fn cache_full_at(samples: &[Sample]) -> Option<f64> {
    samples
        .iter()
        .find(|sample| sample.cache_resets > 0)
        .map(|sample| sample.at)
}
