//! `envsync run -- true` end to end with 20 and 1,000 variables, from the linked file and
//! from the remote head of a folder remote. Targets: under 10 ms from the file, under 20 ms
//! from the remote.

mod common;

use common::{envsync, layout};
use criterion::{Criterion, criterion_group, criterion_main};

fn run(criterion: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let (home, workspace, _remote) = layout(root.path());
    std::fs::write(
        workspace.join("envsync.toml"),
        "remote = \"../remote\"\n\n[projects.app.environments]\nvars20 = \".env.20\"\nvars1000 = \".env.1000\"\n",
    )
    .unwrap();
    for count in [20, 1000] {
        let text: String = (0..count)
            .map(|index| {
                format!("SECRET_KEY_{index}=value-{index}-0123456789abcdef0123456789abcdef\n")
            })
            .collect();
        std::fs::write(workspace.join(format!(".env.{count}")), text).unwrap();
        envsync(
            &home,
            &workspace,
            &["push", "--env", &format!("vars{count}")],
        );
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
        group.bench_function(format!("{count} variables, folder remote head"), |bench| {
            bench.iter(|| {
                envsync(
                    &home,
                    &workspace,
                    &["run", "--remote", "--env", &environment, "--", "true"],
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, run);
criterion_main!(benches);
