//! Writes end to end (issue 19, item 3), the real release binary against its limit:
//!
//! - the limit, in process: age-encrypting and decrypting the 1,000-variable plaintext
//!   (about 50 KB) and signing a record, the work a write cannot skip;
//! - `push` of 1,000 variables to a folder remote and to an `envsync server` (SQLite, on
//!   loopback);
//! - `sync` that merges a teammate's pushed key with a local edit (folder remote);
//! - `members add` and `members remove` on a project of 20 environments × 1,000 variables,
//!   each of which re-encrypts every head (folder remote and server).
//!
//! Run with `cargo bench -p envsync --bench writes`.

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use common::{command, envsync, layout};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use envsync_crypto::Identity;
use support::server::Server;

const ENVIRONMENTS: usize = 20;

fn variables(count: usize, bump: u64) -> String {
    let mut text = format!("BUMP={bump}\n");
    for index in 1..count {
        text.push_str(&format!(
            "SECRET_KEY_{index}=value-{index}-0123456789abcdef0123456789abcdef\n"
        ));
    }
    text
}

/// A workspace at `dir` on `remote` with environments e00…e19, each pushed with 1,000
/// variables.
fn project(home: &Path, dir: &Path, remote: &str, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let mut toml = format!("remote = \"{remote}\"\n\n[projects.{name}.environments]\n");
    for index in 0..ENVIRONMENTS {
        toml.push_str(&format!("e{index:02} = \".env.e{index:02}\"\n"));
    }
    std::fs::write(dir.join("envsync.toml"), toml).unwrap();
    for index in 0..ENVIRONMENTS {
        std::fs::write(dir.join(format!(".env.e{index:02}")), variables(1000, 0)).unwrap();
        envsync(home, dir, &["push", "--env", &format!("e{index:02}")]);
    }
}

/// A teammate's member key (their own home, their own identity).
fn teammate_key(root: &Path, name: &str) -> (PathBuf, String) {
    let home = root.join(format!("home-{name}"));
    std::fs::create_dir_all(&home).unwrap();
    envsync(&home, root, &["keygen", "--name", name]);
    let key = envsync(&home, root, &["whoami"]).stdout;
    (home, String::from_utf8(key).unwrap().trim().to_owned())
}

fn limit(criterion: &mut Criterion) {
    let alice = Identity::generate("alice");
    let bob = Identity::generate("bob");
    let recipients = [alice.member_key().clone(), bob.member_key().clone()];
    let plaintext = variables(1000, 0).into_bytes();
    let ciphertext = envsync_crypto::encrypt(&plaintext, &recipients).unwrap();
    let mut group = criterion.benchmark_group("limit, in process (1,000 variables, 2 members)");
    group.bench_function("age-encrypt", |bench| {
        bench.iter(|| envsync_crypto::encrypt(&plaintext, &recipients).unwrap())
    });
    group.bench_function("age-decrypt", |bench| {
        bench.iter(|| alice.decrypt(&ciphertext).unwrap())
    });
    group.bench_function("sign a 1 KB record", |bench| {
        bench.iter(|| alice.sign(&plaintext[..1024]))
    });
    group.finish();
}

fn writes(criterion: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let (home, workspace, remote) = layout(root.path());
    let server = Server::sqlite(&root.path().join("server"));
    let served = root.path().join("ws-server");
    std::fs::create_dir_all(&served).unwrap();
    envsync(
        &home,
        &served,
        &["join", &server.url, server.setup_code.as_deref().unwrap()],
    );
    project(&home, &workspace, &remote.display().to_string(), "app");
    project(&home, &served, &server.url, "app");
    let mut bump = 0;
    let mut group = criterion.benchmark_group("writes");
    group.sample_size(20);
    for (name, place) in [("folder remote", &workspace), ("envsync server", &served)] {
        group.bench_function(format!("push 1,000 variables, {name}"), |bench| {
            bench.iter_batched(
                || {
                    bump += 1;
                    std::fs::write(place.join(".env.e00"), variables(1000, bump)).unwrap();
                },
                |()| envsync(&home, place, &["push", "--env", "e00"]),
                BatchSize::PerIteration,
            )
        });
    }
    let (_, key) = teammate_key(root.path(), "carol");
    for (name, place) in [("folder remote", &workspace), ("envsync server", &served)] {
        let add = [
            "members",
            "add",
            key.as_str(),
            "--name",
            "carol",
            "--role",
            "reader",
        ];
        let remove = ["members", "remove", "carol", "--yes"];
        group.bench_function(
            format!("members add, 20 × 1,000 variables, {name}"),
            |bench| {
                // The first round has no Carol to remove: that setup step may fail.
                bench.iter_batched(
                    || drop(command(&home, place, &remove).output()),
                    |()| envsync(&home, place, &add),
                    BatchSize::PerIteration,
                );
            },
        );
        group.bench_function(
            format!("members remove, 20 × 1,000 variables, {name}"),
            |bench| {
                // The first round finds Carol added by the bench above: that step may fail.
                bench.iter_batched(
                    || drop(command(&home, place, &add).output()),
                    |()| envsync(&home, place, &remove),
                    BatchSize::PerIteration,
                );
            },
        );
    }
    group.finish();
    sync_with_a_merge(criterion, root.path(), &home, &workspace);
}

/// Bob pushes a change to one key while Alice edits another; Alice's `sync` merges them.
fn sync_with_a_merge(criterion: &mut Criterion, root: &Path, home: &Path, workspace: &Path) {
    let (bob_home, key) = teammate_key(root, "bob");
    let add = ["members", "add", &key, "--name", "bob", "--role", "writer"];
    envsync(home, workspace, &add);
    let bob = root.join("ws-bob");
    std::fs::create_dir_all(&bob).unwrap();
    std::fs::copy(workspace.join("envsync.toml"), bob.join("envsync.toml")).unwrap();
    envsync(&bob_home, &bob, &["pull", "--env", "e01"]);
    envsync(home, workspace, &["pull", "--env", "e01"]);
    let mut round = 0u64;
    let mut group = criterion.benchmark_group("writes");
    group.sample_size(20);
    group.bench_function(
        "sync with a merge, 1,000 variables, folder remote",
        |bench| {
            bench.iter_batched(
                || {
                    round += 1;
                    append(&bob.join(".env.e01"), &format!("B{round}=theirs\n"));
                    envsync(&bob_home, &bob, &["sync", "--env", "e01"]);
                    append(&workspace.join(".env.e01"), &format!("A{round}=mine\n"));
                },
                |()| envsync(home, workspace, &["sync", "--env", "e01"]),
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
}

fn append(path: &Path, line: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text + line).unwrap();
}

criterion_group!(benches, limit, writes);
criterion_main!(benches);
