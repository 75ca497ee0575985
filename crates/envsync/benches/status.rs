//! `envsync status` end to end (process start to exit) on a workspace of 20 environments
//! that are all pushed, with a folder remote. Target: under 20 ms.

mod common;

use common::{envsync, layout};
use criterion::{Criterion, criterion_group, criterion_main};

const ENVIRONMENTS: usize = 20;

fn status(criterion: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let (home, workspace, _remote) = layout(root.path());
    let mut config = String::from("remote = \"../remote\"\n\n[projects.app.environments]\n");
    for index in 0..ENVIRONMENTS {
        config.push_str(&format!("env{index} = \".env.{index}\"\n"));
    }
    std::fs::write(workspace.join("envsync.toml"), config).unwrap();
    for index in 0..ENVIRONMENTS {
        let text: String = (0..50)
            .map(|key| format!("KEY_{key}=value-{index}-{key}\n"))
            .collect();
        std::fs::write(workspace.join(format!(".env.{index}")), text).unwrap();
        envsync(
            &home,
            &workspace,
            &["push", "--env", &format!("env{index}")],
        );
    }
    let report = envsync(&home, &workspace, &["status"]);
    assert_eq!(
        String::from_utf8_lossy(&report.stdout)
            .matches(" synced ")
            .count(),
        ENVIRONMENTS
    );

    criterion.bench_function(
        "envsync status, 20 environments (process end to end)",
        |bench| {
            bench.iter(|| envsync(&home, &workspace, &["status"]));
        },
    );
}

criterion_group!(benches, status);
criterion_main!(benches);
