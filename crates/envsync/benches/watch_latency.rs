//! Live-event latency of a real `envsync server` (SQLite) with many watchers: 1,000
//! WebSocket connections, each opened through envsync-client's `EventSource` (the code
//! `envsync watch` uses) and read by a thread of its own, hear 50 pushes made one at a time
//! through the API. For every (watcher, push) pair it records the delay from the push's
//! 201 response to the watcher receiving the event, and from the moment the push was sent
//! (which includes the push itself), and from the first watcher to hear that push (the
//! fan-out). The server publishes before it answers, so an event can beat its own 201: such
//! a delay counts as 0. Watchers, pushes and server share the machine, so the figures
//! include the client threads' scheduling: they are a ceiling.
//!
//! Then the end-to-end figure a user sees, measured from outside both programs: Alice runs
//! the real `envsync push` and Bob the real `envsync watch` (the bench profile's optimised
//! binary); the delay from Alice's push returning to Bob's `.env` holding the new text
//! (`ENVSYNC_BENCH_ROUNDS` rounds, default 30), first with Bob's the only event stream on
//! the server, then with 999 others open. That includes Bob's watcher fetching, verifying
//! and decrypting the version and writing the file. The crowded row alone used to hide the
//! watcher's own delay: the server publishes an event before it answers the push, and with
//! 1,000 sockets to write Alice's push returned late enough to cover a 50 ms sleep the
//! watcher then took after every wake-up. `ENVSYNC_BENCH_END_TO_END_ONLY=1` runs only
//! these rows.
//!
//! Run with `cargo bench -p envsync --bench watch_latency`. The server and this process
//! each hold one socket per watcher: raise the open-files limit first if it is below about
//! 2,100 (`ulimit -n 4096; cargo bench …`). `ENVSYNC_BENCH_WATCHERS` and
//! `ENVSYNC_BENCH_PUSHES` change the counts (defaults 1000 and 50).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use std::cell::RefCell;
use std::rc::Rc;

use envsync_client::credentials::Token;
use envsync_client::records::VersionRecord;
use envsync_client::remote::{EventSource, HttpRemote, Remote};
use envsync_client::server_api::ApiClient;
use support::Team;
use support::protocol::{Founded, Place, join, person, push_body, version, version_path};
use support::server::{Api, Server};
use support::team_server::{Watcher, alice_invites_bob};

const PLACE: Place = Place {
    project: "bench",
    environment: "production",
};

/// The owner of project `bench`, with its token, pushing signed versions in a chain.
struct Owner {
    api: Api,
    token: String,
    founded: Founded,
    last: RefCell<Option<VersionRecord>>,
}

fn prepare(server: &Server) -> Owner {
    let api = Api::new(&server.url);
    let identity = Rc::new(person("Bench"));
    let token = join(&api, server.setup_code.as_deref().unwrap(), &identity);
    let founded = Founded::found(&api, PLACE.project, identity, token.clone());
    Owner {
        api,
        token,
        founded,
        last: RefCell::new(None),
    }
}

impl Owner {
    /// Pushes version `number`, signed and chained on the previous one; the instants it was
    /// sent and answered 201.
    fn push(&self, number: u64) -> (Instant, Instant) {
        let ciphertext = format!("version {number}").repeat(64).into_bytes();
        let owner = &self.founded.owner;
        let record = match self.last.borrow().as_ref() {
            None => self.founded.first_version(PLACE, owner, &ciphertext),
            Some(base) => version(PLACE, number, base, owner, &ciphertext),
        };
        let path = version_path(&record);
        let body = push_body(&record, &ciphertext);
        let sent = Instant::now();
        let reply = self.api.send("PUT", &path, Some(&self.token), &body);
        let answered = Instant::now();
        assert_eq!(reply.status, 201, "{}", reply.body);
        *self.last.borrow_mut() = Some(record);
        (sent, answered)
    }
}

/// Opens `count` event streams, each read by its own thread that records when each version
/// number arrives. Returns once every stream is open.
fn watchers(
    source: &EventSource,
    count: usize,
    pushes: u64,
    heard: &Arc<AtomicUsize>,
) -> Vec<std::thread::JoinHandle<Vec<(u64, Instant)>>> {
    let ready = Arc::new(Barrier::new(count + 1));
    let handles = (0..count)
        .map(|_| {
            let source = source.clone();
            let ready = Arc::clone(&ready);
            let heard = Arc::clone(heard);
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let mut stream = source.connect().expect("open the event stream");
                    ready.wait();
                    let mut arrivals = Vec::with_capacity(pushes as usize);
                    while arrivals.len() < pushes as usize {
                        let event = stream.next_event().expect("the stream stays open");
                        arrivals.push((event.number, Instant::now()));
                        heard.fetch_add(1, Ordering::Release);
                    }
                    arrivals
                })
                .expect("spawn a watcher thread")
        })
        .collect();
    ready.wait();
    handles
}

/// The end-to-end figure: Alice runs `envsync push` (the real binary) and Bob runs
/// `envsync watch` (the real binary, polling off); from the moment Alice's push returns to
/// the moment Bob's `.env` holds the new text, while `others` more event streams listen on
/// the same server. Returns the sorted delays.
fn file_rewritten(others: usize, rounds: usize) -> Vec<Duration> {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let credentials =
        std::fs::read_to_string(alice.home.join(".config/envsync/credentials.toml")).unwrap();
    let token = credentials
        .lines()
        .find_map(|line| line.trim().strip_prefix("token = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("alice's stored token")
        .to_owned();
    let client = ApiClient::new(&server.url, Some(Token::new(token))).unwrap();
    let source = HttpRemote::new(client)
        .events()
        .expect("a server has events");
    let ready = Arc::new(Barrier::new(others + 1));
    for _ in 0..others {
        let (source, ready) = (source.clone(), Arc::clone(&ready));
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let mut stream = source.connect().expect("open the event stream");
                ready.wait();
                while stream.next_event().is_ok() {}
            })
            .expect("spawn a watcher thread");
    }
    ready.wait();
    bob.set_auto_refresh(0);
    let watcher = Watcher::start(&bob, true, &[]);
    let patience = Duration::from_secs(30);
    watcher.wait_for("a connection", patience, |event| {
        event["event"] == "connected"
    });
    watcher.wait_for("the initial status", patience, |event| {
        event["event"] == "status" && event["environment"] == "development"
    });
    let mut delays = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let text = format!("API_KEY=round-{round}\n");
        alice.write_env(".env", &text);
        alice.run(&["push", "-m", "bench"]).ok();
        let returned = Instant::now();
        let deadline = returned + patience;
        while std::fs::read_to_string(bob.workspace.join(".env"))
            .ok()
            .as_deref()
            != Some(&text)
        {
            assert!(
                Instant::now() < deadline,
                "round {round} never reached Bob's file"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        delays.push(returned.elapsed());
    }
    drop(watcher);
    delays.sort_unstable();
    delays
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1);
    sorted[index].as_secs_f64() * 1000.0
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing to run.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let count = setting("ENVSYNC_BENCH_WATCHERS", 1000);
    if std::env::var_os("ENVSYNC_BENCH_END_TO_END_ONLY").is_some() {
        return end_to_end(count);
    }
    let pushes = setting("ENVSYNC_BENCH_PUSHES", 50) as u64;
    let directory = tempfile::tempdir().unwrap();
    let server = Server::sqlite(directory.path());
    let owner = prepare(&server);
    let client = ApiClient::new(&server.url, Some(Token::new(owner.token.clone()))).unwrap();
    let source = HttpRemote::new(client)
        .events()
        .expect("a server has events");
    let heard = Arc::new(AtomicUsize::new(0));
    let opened = Instant::now();
    let handles = watchers(&source, count, pushes, &heard);
    let opened = opened.elapsed();
    // The server subscribes a socket just after its handshake: let the last ones settle.
    std::thread::sleep(Duration::from_millis(500));

    let mut times = Vec::with_capacity(pushes as usize);
    for number in 1..=pushes {
        times.push(owner.push(number));
        let expected = count * number as usize;
        let deadline = Instant::now() + Duration::from_secs(30);
        while heard.load(Ordering::Acquire) < expected {
            assert!(
                Instant::now() < deadline,
                "push {number} did not reach every watcher"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let arrivals: Vec<Vec<(u64, Instant)>> = handles
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    let mut first = vec![None::<Instant>; pushes as usize];
    for &(number, arrived) in arrivals.iter().flatten() {
        let slot = &mut first[number as usize - 1];
        *slot = Some(slot.map_or(arrived, |earliest| earliest.min(arrived)));
    }
    let (mut from_201, mut from_sent, mut from_first) = (Vec::new(), Vec::new(), Vec::new());
    for &(number, arrived) in arrivals.iter().flatten() {
        let (sent, answered) = times[number as usize - 1];
        from_201.push(arrived.saturating_duration_since(answered));
        from_sent.push(arrived.saturating_duration_since(sent));
        from_first.push(arrived.saturating_duration_since(first[number as usize - 1].unwrap()));
    }
    for delays in [&mut from_201, &mut from_sent, &mut from_first] {
        delays.sort_unstable();
    }
    println!(
        "opened {count} event streams in {:.2} s",
        opened.as_secs_f64()
    );
    println!("| watchers | pushes | measured from | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    for (name, delays) in [
        ("201 response", &from_201),
        ("push sent", &from_sent),
        ("first watcher", &from_first),
    ] {
        println!(
            "| {count} | {pushes} | {name} | {:.2} ms | {:.2} ms | {:.2} ms |",
            percentile(delays, 0.50),
            percentile(delays, 0.99),
            percentile(delays, 1.0),
        );
    }
    end_to_end(count);
}

/// The end-to-end rows: Bob's watcher alone on the server (what a user sees), then among
/// `count - 1` other event streams.
fn end_to_end(count: usize) {
    let rounds = setting("ENVSYNC_BENCH_ROUNDS", 30);
    println!("| event streams | rounds | measured | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    let mut crowds = vec![0, count.saturating_sub(1)];
    crowds.dedup();
    for others in crowds {
        let delays = file_rewritten(others, rounds);
        println!(
            "| {} | {rounds} | `envsync push` returned → Bob's `.env` rewritten by `envsync watch` | {:.2} ms | {:.2} ms | {:.2} ms |",
            others + 1,
            percentile(&delays, 0.50),
            percentile(&delays, 0.99),
            percentile(&delays, 1.0),
        );
    }
}
