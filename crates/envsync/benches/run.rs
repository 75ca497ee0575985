//! `envsync run -- true` end to end with 20 and 1,000 variables, from the linked file, from
//! the remote head of a folder remote, and from the head on an `envsync server` (SQLite, on
//! loopback): what CI runs. Targets: under 10 ms from the file, under 20 ms from the remote.

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use common::{envsync, layout};
use criterion::{Criterion, criterion_group, criterion_main};
use support::server::Server;

fn run(criterion: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let (home, workspace, _remote) = layout(root.path());
    std::fs::write(
        workspace.join("envsync.toml"),
        "remote = \"../remote\"\n\n[projects.app.environments]\nvars20 = \".env.20\"\nvars1000 = \".env.1000\"\n",
    )
    .unwrap();
    let server = Server::sqlite(&root.path().join("server"));
    let served = root.path().join("ws-server");
    std::fs::create_dir_all(&served).unwrap();
    std::fs::write(
        served.join("envsync.toml"),
        format!(
            "remote = \"{}\"\n\n[projects.app.environments]\nvars20 = \".env.20\"\nvars1000 = \".env.1000\"\n",
            server.url
        ),
    )
    .unwrap();
    envsync(
        &home,
        &served,
        &["join", &server.url, server.setup_code.as_deref().unwrap()],
    );
    for count in [20, 1000] {
        let text: String = (0..count)
            .map(|index| {
                format!("SECRET_KEY_{index}=value-{index}-0123456789abcdef0123456789abcdef\n")
            })
            .collect();
        for place in [&workspace, &served] {
            std::fs::write(place.join(format!(".env.{count}")), &text).unwrap();
            envsync(&home, place, &["push", "--env", &format!("vars{count}")]);
        }
    }
    let mut group = criterion.benchmark_group("envsync run -- true");
    for count in [20, 1000] {
        let environment = format!("vars{count}");
        group.bench_function(format!("{count} variables, linked file"), |bench| {
            bench.iter(|| {
                envsync(
                    &home,
                    &workspace,
                    &["run", "--env", &environment, "--", "true"],
                )
            });
        });
        for (remote, place) in [("folder remote", &workspace), ("envsync server", &served)] {
            group.bench_function(format!("{count} variables, {remote} head"), |bench| {
                bench.iter(|| {
                    envsync(
                        &home,
                        place,
                        &["run", "--remote", "--env", &environment, "--", "true"],
                    )
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, run);
criterion_main!(benches);
