//! A live event stream that survives its connection: when the socket drops (a server
//! restart, a replica leaving the load balancer, a laptop waking up) it reconnects with
//! exponential backoff. Events sent while it was away are not replayed; a `Connected` tells
//! the caller to catch up by comparing heads, which is cheaper and surer than a replay log.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use envsync_api::Event;

use super::events::{EventSource, EventStream};
use crate::error::{ErrorKind, Result};

const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(30);

/// What a [`Subscription`] reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// The socket is open (first time or again): refresh everything, events may have been
    /// missed.
    Connected,
    Event(Event),
    /// The socket dropped or a connection attempt failed; the next attempt follows after
    /// `retry_in`.
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
}

/// A blocking iterator of live updates that reconnects on its own. It ends, after yielding
/// the error, only when retrying cannot help: the server refused the token (`Access`) or the
/// token cannot be sent (`Input`).
pub struct Subscription {
    source: EventSource,
    stream: Option<EventStream>,
    backoff: Backoff,
    wait: Option<Duration>,
    finished: bool,
}

impl EventSource {
    pub fn subscribe(self) -> Subscription {
        Subscription {
            source: self,
            stream: None,
            backoff: Backoff::default(),
            wait: None,
            finished: false,
        }
    }
}

impl Iterator for Subscription {
    type Item = Result<Live>;

    fn next(&mut self) -> Option<Result<Live>> {
        if self.finished {
            return None;
        }
        if let Some(stream) = &mut self.stream {
            return Some(match stream.next_event() {
                Ok(event) => Ok(Live::Event(event)),
                Err(error) => {
                    self.stream = None;
                    Ok(self.disconnected(error.to_string()))
                }
            });
        }
        if let Some(wait) = self.wait.take() {
            std::thread::sleep(wait);
        }
        Some(match self.source.connect() {
            Ok(stream) => {
                self.stream = Some(stream);
                self.backoff.reset();
                Ok(Live::Connected)
            }
            Err(error) if matches!(error.kind(), ErrorKind::Access | ErrorKind::Input) => {
                self.finished = true;
                Err(error)
            }
            Err(error) => Ok(self.disconnected(error.to_string())),
        })
    }
}

impl Subscription {
    fn disconnected(&mut self, reason: String) -> Live {
        let retry_in = self.backoff.next_delay();
        self.wait = Some(retry_in);
        Live::Disconnected { reason, retry_in }
    }
}

/// Reconnect delays: 0.5 s doubling to 30 s, each scaled by a random 0.75–1.25 (capped at
/// 30 s) so that a thousand watchers of a restarted server do not all knock at once.
struct Backoff {
    next: Duration,
    random: RandomState,
    draws: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: FIRST_DELAY,
            random: RandomState::new(),
            draws: 0,
        }
    }
}

impl Backoff {
    fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (base * 2).min(MAX_DELAY);
        self.draws += 1;
        // A keyed hash of a counter: random enough for jitter, with no extra dependency.
        let unit = (self.random.hash_one(self.draws) % 1_000_000) as f64 / 1_000_000.0;
        base.mul_f64(0.75 + unit / 2.0).min(MAX_DELAY)
    }

    fn reset(&mut self) {
        self.next = FIRST_DELAY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_to_thirty_seconds_with_jitter() {
        let mut backoff = Backoff::default();
        let mut base = FIRST_DELAY;
        for _ in 0..12 {
            let delay = backoff.next_delay();
            assert!(delay >= base.mul_f64(0.75) && delay <= base.mul_f64(1.25).min(MAX_DELAY));
            base = (base * 2).min(MAX_DELAY);
        }
        assert_eq!(backoff.next, MAX_DELAY);
        backoff.reset();
        assert!(backoff.next_delay() <= FIRST_DELAY.mul_f64(1.25));
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let delays: std::collections::BTreeSet<Duration> =
            (0..20).map(|_| Backoff::default().next_delay()).collect();
        assert!(delays.len() > 10, "{delays:?}");
    }

    #[test]
    fn an_unreachable_server_is_retried_with_growing_delays() {
        let mut subscription =
            EventSource::new(super::super::tests::closed_port_url(), None).subscribe();
        let Some(Ok(Live::Disconnected { reason, retry_in })) = subscription.next() else {
            panic!("expected a disconnection");
        };
        assert!(reason.contains("cannot connect"), "{reason}");
        assert!(retry_in <= FIRST_DELAY.mul_f64(1.25));
    }
}
