//! The soak's load: writers, each pushing signed versions to an environment of its own at a
//! steady pace through the API, and watchers, each a WebSocket on `/api/v1/events` read by
//! a thread of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use envsync_client::records::VersionRecord;
use envsync_client::remote::EventSource;
use envsync_core::hash::sha256_hex;
use envsync_crypto::Identity;

use crate::support::protocol::{Place, first_version_on, push_body, version, version_path};
use crate::support::server::Api;

/// What every writer shares: the server, the owner's token and identity file (each writer
/// parses its own copy: signing keys stay on one thread), the pace and the end.
#[derive(Clone)]
pub struct WriterPlan {
    pub url: String,
    pub token: String,
    pub identity_file: String,
    pub interval: Duration,
    pub deadline: Instant,
}

/// What one writer did.
pub struct Written {
    pub environment: &'static str,
    /// Every version answered 201: its number and its ciphertext's SHA-256.
    pub acknowledged: Vec<(u64, String)>,
    pub latencies: Vec<Duration>,
    /// Pushes answered otherwise, or not at all (each retried with the same number).
    pub failures: u64,
}

/// Pushes versions 1, 2, … of `soak/ENVIRONMENT` every `plan.interval` until the deadline.
pub fn writer(plan: WriterPlan, environment: &'static str) -> Written {
    let identity = Identity::parse(&plan.identity_file, "Soak").expect("the owner's identity");
    let place = Place {
        project: "soak",
        environment,
    };
    let api = Api::new(&plan.url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut written = Written {
        environment,
        acknowledged: Vec::new(),
        latencies: Vec::new(),
        failures: 0,
    };
    let mut base: Option<VersionRecord> = None;
    let mut next = Instant::now();
    while Instant::now() < plan.deadline {
        let number = base.as_ref().map_or(1, |base| base.body.number + 1);
        let ciphertext = format!("{environment} version {number} ")
            .repeat(40)
            .into_bytes();
        let record = match &base {
            None => first_version_on(&api, &plan.token, place, &identity, &ciphertext),
            Some(base) => version(place, number, base, &identity, &ciphertext),
        };
        let sent = Instant::now();
        if put(&agent, &plan, &record, &ciphertext) == Some(201) {
            written.latencies.push(sent.elapsed());
            written.acknowledged.push((number, sha256_hex(&ciphertext)));
            base = Some(record);
        } else {
            written.failures += 1;
            // Unanswered is not refused: if the server stored it, build on it.
            if head(&agent, &plan, environment) == Some(number) {
                base = Some(record);
            }
        }
        next += plan.interval;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    written
}

/// PUTs a version: its status, or `None` when no answer came.
fn put(
    agent: &ureq::Agent,
    plan: &WriterPlan,
    record: &VersionRecord,
    ciphertext: &[u8],
) -> Option<u16> {
    let url = format!("{}{}", plan.url, version_path(record));
    agent
        .put(&url)
        .header("Authorization", format!("Bearer {}", plan.token))
        .header("Content-Type", "application/json")
        .send(push_body(record, ciphertext))
        .ok()
        .map(|response| response.status().as_u16())
}

/// The environment's head number, or `None` when there is none or no answer.
fn head(agent: &ureq::Agent, plan: &WriterPlan, environment: &str) -> Option<u64> {
    let url = format!(
        "{}{}",
        plan.url,
        envsync_api::paths::head("soak", environment)
    );
    let mut response = agent
        .get(&url)
        .header("Authorization", format!("Bearer {}", plan.token))
        .call()
        .ok()?;
    let text = response.body_mut().read_to_string().ok()?;
    let head: envsync_api::Head = serde_json::from_str(&text).ok()?;
    head.head
}

/// What the watchers heard, shared with their threads.
#[derive(Default)]
pub struct Heard {
    /// Events received, by watcher.
    pub events: Vec<AtomicU64>,
    /// Sockets that ended and were opened again.
    pub reconnects: AtomicU64,
    pub stop: AtomicBool,
}

/// Opens `count` event streams, each read by its own thread until `heard.stop`; a stream
/// that ends is opened again (events sent meanwhile are missed, and counted so). Returns
/// once every stream is open.
pub fn watchers(source: &EventSource, count: usize) -> Arc<Heard> {
    let heard = Arc::new(Heard {
        events: (0..count).map(|_| AtomicU64::new(0)).collect(),
        ..Heard::default()
    });
    let ready = Arc::new(std::sync::Barrier::new(count + 1));
    for index in 0..count {
        let (source, heard, ready) = (source.clone(), Arc::clone(&heard), Arc::clone(&ready));
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut stream = connect(&source);
                ready.wait();
                while !heard.stop.load(Ordering::Acquire) {
                    if stream.next_event().is_ok() {
                        heard.events[index].fetch_add(1, Ordering::Release);
                    } else if !heard.stop.load(Ordering::Acquire) {
                        heard.reconnects.fetch_add(1, Ordering::Relaxed);
                        stream = connect(&source);
                    }
                }
            })
            .expect("spawn a watcher thread");
    }
    ready.wait();
    heard
}

/// Opens a stream, retrying for a minute: 500 handshakes at once may meet a full backlog.
fn connect(source: &EventSource) -> envsync_client::remote::EventStream {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match source.connect() {
            Ok(stream) => return stream,
            Err(error) if Instant::now() > deadline => panic!("open an event stream: {error}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

impl Heard {
    pub fn total(&self) -> u64 {
        self.events
            .iter()
            .map(|count| count.load(Ordering::Acquire))
            .sum()
    }

    /// Watchers that heard fewer than `expected` events.
    pub fn short_of(&self, expected: u64) -> usize {
        self.events
            .iter()
            .filter(|count| count.load(Ordering::Acquire) < expected)
            .count()
    }
}
