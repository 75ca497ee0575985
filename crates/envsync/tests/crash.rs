//! Crash at any instant (issue 16, item 2): the real `envsync` killed with SIGKILL at random
//! moments of `push`, `pull`, `sync`, `members accept` and `members remove`, on a folder
//! remote and on a server, and the server itself killed under a load of pushes.
//!
//! After each kill: the linked file is the old or the new content (never torn, never
//! missing), the workspace's next command works or names the command to run, every version
//! on the remote verifies (a third member reads the whole log), and the interrupted command
//! run again completes. `ENVSYNC_CRASH_ROUNDS` (default 3) sets the rounds of each test; the
//! moments are drawn from `ENVSYNC_CRASH_SEED` (default: the clock), printed on failure.
//!
//! One instant is aimed at rather than drawn: `members remove` killed once its removal
//! entry is on the remote and before any head is re-encrypted, when the removed member can
//! still decrypt the heads. The next command says so and names `envsync repair`, which a
//! writer runs to re-encrypt them (a reader's repair says it needs a writer), or the owner's
//! `members remove` run again; on a folder remote and on a server.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use envsync_api::paths;
use support::server::{Api, PgDatabase, Server};
use support::team_server::{alice_invites_bob, code_in};
use support::{Run, Team, Teammate, numbered_records, spawn_until};

fn rounds() -> u64 {
    std::env::var("ENVSYNC_CRASH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(3)
}

/// A small xorshift generator: the kill moments need spread, not quality.
struct Moments(u64);

impl Moments {
    fn new() -> Self {
        let seed = std::env::var("ENVSYNC_CRASH_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("ENVSYNC_CRASH_SEED={seed}");
        Self(seed | 1)
    }

    /// A moment in `0..=span` (plus a little, so that some runs finish before the kill).
    fn within(&mut self, span: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let limit = span.as_micros() as u64 * 5 / 4 + 1;
        Duration::from_micros(self.0 % limit)
    }
}

/// Runs `envsync ARGS` as `who` and sends SIGKILL after `delay` unless it has exited.
/// Returns whether it was killed.
fn kill_after(who: &Teammate, args: &[&str], delay: Duration) -> bool {
    let mut child = who
        .command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    if child.try_wait().unwrap().is_some() {
        return false;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    true
}

/// How long `envsync ARGS` takes as `who`, run to completion (the span to kill within).
fn timed(who: &Teammate, args: &[&str]) -> Duration {
    let started = Instant::now();
    who.run(args).ok();
    started.elapsed()
}

/// The linked file is one of `allowed`, whole.
#[track_caller]
fn one_of(who: &Teammate, allowed: &[&str]) -> String {
    let text = std::fs::read_to_string(who.workspace.join(".env"))
        .unwrap_or_else(|error| panic!("{}'s .env after a kill: {error}", who.name));
    assert!(
        allowed.contains(&text.as_str()),
        "{}'s .env is torn or unknown after a kill: {text:?}, not one of {allowed:?}",
        who.name
    );
    text
}

/// The next command in `who`'s workspace works, or fails saying which command to run.
#[track_caller]
fn next_command_is_clear(who: &Teammate) {
    let status = who.run(&["status"]);
    assert!(
        status.code == 0 || status.stderr.contains("envsync "),
        "{}'s status after a kill ({}): {}",
        who.name,
        status.code,
        status.stderr
    );
}

/// Every version on the remote verifies: `reader` walks the whole log and pulls the head.
#[track_caller]
fn remote_is_whole(reader: &Teammate) {
    reader.run(&["log", "--json"]).ok();
    reader.run(&["pull", "--force"]).ok();
}

/// `envsync ARGS` completes now, or has nothing left to do.
#[track_caller]
fn completes(who: &Teammate, args: &[&str]) -> Run {
    let run = who.run(args);
    assert_eq!(
        run.code, 0,
        "{} {args:?} after a kill: {}",
        who.name, run.stderr
    );
    run
}

/// Rounds of push, pull and sync killed at random moments: Alice writes, Bob reads and
/// merges, Carol (a reader) checks the remote after each.
fn push_pull_sync_rounds(alice: &Teammate, bob: &Teammate, carol: &Teammate) {
    let mut moments = Moments::new();
    alice.write_env(".env", "ROUND=timing\n");
    let push_span = timed(alice, &["push"]);
    let pull_span = timed(bob, &["pull"]);
    // Bob and Carol trust each other's keys, which Alice accepted.
    bob.run(&["pull", "--yes"]).ok();
    carol.run(&["pull", "--yes"]).ok();
    for round in 0..rounds() {
        let new = format!("ROUND={round}\n");
        alice.write_env(".env", &new);
        kill_after(alice, &["push"], moments.within(push_span));
        one_of(alice, &[&new]);
        next_command_is_clear(alice);
        remote_is_whole(carol);
        completes(alice, &["sync"]);

        let old = std::fs::read_to_string(bob.workspace.join(".env")).unwrap();
        kill_after(bob, &["pull"], moments.within(pull_span));
        one_of(bob, &[&old, &new]);
        next_command_is_clear(bob);
        completes(bob, &["pull"]);
        one_of(bob, &[&new]);

        // Both edit different keys: sync merges, whenever it is killed.
        let bob_edit = format!("{new}BOB={round}\n");
        bob.write_env(".env", &bob_edit);
        let alice_edit = format!("ROUND={round}-alice\n");
        alice.write_env(".env", &alice_edit);
        alice.run(&["push"]).ok();
        let merged = format!("ROUND={round}-alice\nBOB={round}\n");
        kill_after(bob, &["sync"], moments.within(pull_span * 2));
        one_of(bob, &[&bob_edit, &merged]);
        next_command_is_clear(bob);
        remote_is_whole(carol);
        completes(bob, &["sync"]);
        one_of(bob, &[&merged]);
        completes(alice, &["pull"]);
    }
}

/// `members accept` and `members remove` killed at random moments, a newcomer each round
/// (from `newcomer`, waiting for access): the membership log stays whole, and run again
/// each one completes or says it is done.
fn membership_rounds(alice: &Teammate, carol: &Teammate, newcomer: &dyn Fn(&str) -> Teammate) {
    let mut moments = Moments::new();
    let span = Duration::from_millis(400);
    for round in 0..rounds().div_ceil(2) {
        let dave = newcomer(&format!("dave{round}"));
        let name = dave.name.as_str();
        kill_after(alice, &["members", "accept", name], moments.within(span));
        next_command_is_clear(alice);
        remote_is_whole(carol);
        let again = alice.run(&["members", "accept", name]);
        assert!(
            again.code == 0 || again.stderr.contains("was accepted as"),
            "accept after a kill ({}): {}",
            again.code,
            again.stderr
        );
        completes(&dave, &["pull", "--force"]);
        kill_after(alice, &["members", "remove", name], moments.within(span));
        next_command_is_clear(alice);
        remote_is_whole(carol);
        let again = alice.run(&["members", "remove", name]);
        assert!(
            again.code == 0
                || again.stderr.contains(&format!(
                    "{name} was removed from project `app` already, and no head is encrypted"
                )),
            "remove after a kill ({}): {}",
            again.code,
            again.stderr
        );
        let after = format!("AFTER=removal-{round}\n");
        alice.write_env(".env", &after);
        completes(alice, &["sync"]);
        dave.run(&["pull", "--force"]).code(5);
        assert_ne!(
            dave.read_env(".env"),
            after,
            "a removed member read what came after"
        );
    }
}

/// What the remote holds, read as the test's own observer: a folder's files, or the
/// server's API with an owner's token.
enum Holding<'a> {
    Folder(&'a Team),
    Server(Api, String),
}

impl Holding<'_> {
    /// Entries of the project's membership log.
    fn membership_entries(&self) -> usize {
        match self {
            Holding::Folder(team) => numbered_records(&team.remote.join("app/members")),
            Holding::Server(api, token) => {
                let log = api.get(&paths::members("app"), Some(token));
                log.json()["records"].as_array().map_or(0, Vec::len)
            }
        }
    }

    /// Development's head record.
    fn head(&self) -> serde_json::Value {
        match self {
            Holding::Folder(team) => {
                let versions = team.remote.join("app/environments/development/versions");
                let newest = format!("{:08}.json", numbered_records(&versions));
                serde_json::from_slice(&std::fs::read(versions.join(newest)).unwrap()).unwrap()
            }
            Holding::Server(api, token) => {
                let head = api.get(&paths::head("app", "development"), Some(token));
                let number = head.json()["head"].as_u64().unwrap();
                let path = paths::version("app", "development", number);
                api.get(&path, Some(token)).json()
            }
        }
    }

    fn head_number(&self) -> u64 {
        self.head()["body"]["number"].as_u64().unwrap()
    }

    /// Whether development's head is encrypted to `key`.
    fn head_encrypted_to(&self, key: &str) -> bool {
        let head = self.head();
        let recipients = head["body"]["recipients"].as_array().unwrap();
        recipients.iter().any(|recipient| recipient == key)
    }
}

/// Runs `members remove NAME` as `who` and sends SIGKILL the moment a new membership entry
/// appears on the remote. Returns whether that instant was caught: the entry is there and
/// no version was written after it.
fn kill_once_removal_is_appended(holding: &Holding, who: &Teammate, name: &str) -> bool {
    let (before, head) = (holding.membership_entries(), holding.head_number());
    let mut command = who.command(&["members", "remove", name]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let Some(mut child) = spawn_until(&mut command, || holding.membership_entries() != before)
    else {
        return false;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    holding.head_number() == head
}

/// The head of development on the folder remote, as its ciphertext file.
fn head_ciphertext(team: &Team) -> std::path::PathBuf {
    let record = Holding::Folder(team).head();
    let digest = record["body"]["ciphertext_sha256"].as_str().unwrap();
    let environment = team.remote.join("app/environments/development");
    environment.join("objects").join(format!("{digest}.age"))
}

/// Whether `who`'s identity opens `file` with the real `age` CLI.
fn age_opens(who: &Teammate, file: &std::path::Path) -> bool {
    std::process::Command::new("age")
        .args(["-d", "-i"])
        .arg(who.identity_file())
        .arg(file)
        .output()
        .expect("the age CLI is installed")
        .status
        .success()
}

/// A newcomer accepted, then `members remove` of them killed after its removal entry and
/// before any head is re-encrypted (tried until that instant is caught, a newcomer each
/// time). The head is still encrypted to the removed member (on a folder remote their `age`
/// opens it), and everyone's next command says so.
fn caught_removal(
    holding: &Holding,
    (alice, bob, carol): (&Teammate, &Teammate, &Teammate),
    newcomer: &dyn Fn(&str) -> Teammate,
    prefix: &str,
) -> (Teammate, String) {
    let (removed, name) = (1..=20)
        .find_map(|attempt| {
            let member = newcomer(&format!("{prefix}{attempt}"));
            let name = member.name.clone();
            alice.run(&["members", "accept", &name]).ok();
            completes(&member, &["pull", "--force"]);
            kill_once_removal_is_appended(holding, alice, &name).then_some((member, name))
        })
        .expect("one of 20 removals was killed between its entry and its re-encryption");
    assert!(holding.head_encrypted_to(&removed.member_key()));
    if let Holding::Folder(team) = holding {
        let head = head_ciphertext(team);
        assert!(age_opens(&removed, &head), "{name} still opens the head");
    }
    let told = format!(
        "app/development (version {}) is still encrypted to {name}, removed from the project",
        holding.head_number()
    );
    let remove_again = format!(
        "`envsync members remove {} -p app` again",
        removed.fingerprint()
    );
    for who in [alice, bob, carol] {
        let status = completes(who, &["status"]);
        assert!(
            status.stderr.contains(&told)
                && status.stderr.contains("run `envsync repair -p app`")
                && status.stderr.contains(&remove_again),
            "{}'s status: {}",
            who.name,
            status.stderr
        );
        let document = completes(who, &["status", "--json"]).json();
        let unrevoked = &document["unrevoked"][0];
        assert_eq!(
            (
                unrevoked["environment"].as_str(),
                unrevoked["version"].as_u64()
            ),
            (Some("development"), Some(holding.head_number())),
            "{}'s status --json: {document}",
            who.name
        );
        assert_eq!(
            unrevoked["removed"][0],
            format!("{name} ({})", removed.fingerprint())
        );
    }
    (removed, name)
}

/// The removal of [`caught_removal`] finished two ways: a reader's repair says a writer is
/// needed and a writer's re-encrypts; the owner's `members remove` run again does too.
/// Either way the head is no longer encrypted to the removed member (on a folder remote,
/// their `age` no longer opens it), and nothing is left to say.
fn removal_killed_before_reencrypting(
    holding: &Holding,
    members: (&Teammate, &Teammate, &Teammate),
    newcomer: &dyn Fn(&str) -> Teammate,
) {
    let (alice, bob, carol) = members;
    let out = |removed: &Teammate| {
        assert!(!holding.head_encrypted_to(&removed.member_key()));
        if let Holding::Folder(team) = holding {
            assert!(
                !age_opens(removed, &head_ciphertext(team)),
                "{} is out",
                removed.name
            );
            assert!(age_opens(carol, &head_ciphertext(team)));
        }
    };
    let (eve, name) = caught_removal(holding, members, newcomer, "eve");
    let head = holding.head_number();
    let refused = completes(carol, &["repair"]);
    assert!(
        refused
            .stderr
            .contains("a writer of development can re-encrypt it"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        holding.head_number(),
        head,
        "a reader's repair writes nothing"
    );
    let repaired = completes(bob, &["repair"]);
    assert!(
        repaired
            .stderr
            .contains("re-encrypted app/development without the members removed from it"),
        "{}",
        repaired.stderr
    );
    out(&eve);
    let status = completes(alice, &["status"]);
    let document = completes(alice, &["status", "--json"]).json();
    assert_eq!(document["unrevoked"], serde_json::json!([]), "{document}");
    assert!(
        !status.stderr.contains("still encrypted"),
        "{}",
        status.stderr
    );
    let again = alice.run(&["members", "remove", &name]).code(2);
    assert!(
        again.stderr.contains("removed from project `app` already"),
        "{}",
        again.stderr
    );

    let (frank, name) = caught_removal(holding, members, newcomer, "frank");
    completes(alice, &["members", "remove", &name]);
    out(&frank);
    let status = completes(bob, &["status"]);
    assert!(
        !status.stderr.contains("still encrypted"),
        "{}",
        status.stderr
    );
}

#[test]
fn a_client_killed_at_any_instant_on_a_folder_remote() {
    let team = Team::new();
    let alice = team.member("alice");
    alice.write_env(".env", "ROUND=start\n");
    alice.run(&["push"]).ok();
    let newcomer = |name: &str| {
        let member = team.member(name);
        member.run(&["pull"]).code(5);
        member
    };
    let [bob, carol] = ["bob", "carol"].map(newcomer);
    alice.run(&["members", "accept", "bob"]).ok();
    alice
        .run(&["members", "accept", "carol", "--role", "reader"])
        .ok();
    bob.run(&["pull"]).ok();
    carol.run(&["pull"]).ok();
    push_pull_sync_rounds(&alice, &bob, &carol);
    membership_rounds(&alice, &carol, &newcomer);
    let holding = Holding::Folder(&team);
    removal_killed_before_reencrypting(&holding, (&alice, &bob, &carol), &newcomer);
}

#[test]
fn a_client_killed_at_any_instant_on_a_server() {
    let team = Team::new();
    let server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    let newcomer = |name: &str| {
        let invite = alice.run(&["invite", "--role", "reader"]).ok();
        let member = team.member_of(name, &server.url);
        member.run(&["join", &server.url, &code_in(&invite)]).ok();
        member
    };
    let carol = newcomer("carol");
    alice.run(&["members", "accept", "carol"]).ok();
    carol.run(&["pull"]).ok();
    push_pull_sync_rounds(&alice, &bob, &carol);
    membership_rounds(&alice, &carol, &newcomer);
    let holding = Holding::Server(Api::new(&server.url), alice.server_token());
    removal_killed_before_reencrypting(&holding, (&alice, &bob, &carol), &newcomer);
}

/// Writers push as fast as they can while the server is SIGKILLed at a random moment; after
/// a restart, every push that was acknowledged (exit 0) is in the log.
fn acknowledged_pushes_survive(server: &mut Server, alice: &Teammate, bob: &Teammate) {
    let mut moments = Moments::new();
    for round in 0..rounds().div_ceil(3) {
        let stop = std::sync::atomic::AtomicBool::new(false);
        let acknowledged = std::thread::scope(|scope| {
            let writers: Vec<_> = [
                (alice, "development", ".env"),
                (bob, "staging", ".env.staging"),
            ]
            .into_iter()
            .map(|(who, environment, file)| {
                let stop = &stop;
                scope.spawn(move || {
                    let mut acknowledged = Vec::new();
                    for push in 0.. {
                        if stop.load(std::sync::atomic::Ordering::SeqCst) {
                            break;
                        }
                        let message = format!("{}-{round}-{push}", who.name);
                        who.write_env(file, &format!("PUSH={message}\n"));
                        let run = who.run(&["push", "-e", environment, "-m", &message]);
                        if run.code == 0 {
                            acknowledged.push((environment, message));
                        } else {
                            break;
                        }
                    }
                    acknowledged
                })
            })
            .collect();
            std::thread::sleep(Duration::from_millis(300) + moments.within(Duration::from_secs(2)));
            server.kill();
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            writers
                .into_iter()
                .flat_map(|writer| writer.join().unwrap())
                .collect::<Vec<_>>()
        });
        server.restart();
        for (environment, message) in acknowledged {
            let log = alice.run(&["log", "--json", "-e", environment]).ok();
            assert!(
                log.stdout.contains(&format!("\"{message}\"")),
                "acknowledged push {message} lost by a server kill"
            );
        }
        // Whatever was cut off, the writers carry on (sync pushes what did not land).
        completes(alice, &["sync"]);
        completes(bob, &["sync", "-e", "staging"]);
    }
}

#[test]
fn acknowledged_pushes_survive_a_server_kill_on_sqlite() {
    let team = Team::new();
    let mut server = Server::sqlite(&team.root.path().join("server"));
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    acknowledged_pushes_survive(&mut server, &alice, &bob);
}

#[test]
fn acknowledged_pushes_survive_a_server_kill_on_postgresql() {
    let team = Team::new();
    let database = PgDatabase::create();
    let mut server = Server::postgres(&database.url);
    let (alice, bob) = alice_invites_bob(&team, &server, &server, "writer");
    acknowledged_pushes_survive(&mut server, &alice, &bob);
}
