//! Slows down guessing: after too many failed authentications (bad tokens, bad invite
//! codes) from one address, further attempts from it get 429 until the window passes.
//! In-process: each replica counts its own failures, which bounds guessing per replica.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const MAX_FAILURES: u32 = 10;
/// Beyond this many tracked addresses, expired entries are swept before adding one.
const SWEEP_AT: usize = 10_000;

pub struct FailureLimiter {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    pub fn new() -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `address` has failed too often within the current window.
    pub fn is_blocked(&self, address: Option<IpAddr>) -> bool {
        let Some(address) = address else {
            return false;
        };
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        failures
            .get(&address)
            .is_some_and(|(start, count)| start.elapsed() < WINDOW && *count >= MAX_FAILURES)
    }

    pub fn record_failure(&self, address: Option<IpAddr>) {
        let Some(address) = address else {
            return;
        };
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = failures.entry(address).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_address() {
        let limiter = FailureLimiter::new();
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..MAX_FAILURES - 1 {
            limiter.record_failure(Some(one));
        }
        assert!(!limiter.is_blocked(Some(one)));
        limiter.record_failure(Some(one));
        assert!(limiter.is_blocked(Some(one)));
        assert!(!limiter.is_blocked(Some(two)));
    }
}
