//! `envsync guard` end to end, the pre-commit hook's cost: 50 source files of 100 KB checked
//! against 1,000 linked values, given as paths and as staged files of a real git
//! repository. Target: under 100 ms, so that the hook never makes a commit feel slow.

mod common;

use common::{envsync, layout};
use criterion::{Criterion, criterion_group, criterion_main};

const VALUES: usize = 1_000;
const FILES: usize = 50;
const FILE_BYTES: usize = 100_000;

/// Deterministic text that looks like source: words from a small alphabet, newlines.
fn source_text(seed: u64) -> String {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let alphabet = b"abcdefghijklmnopqrstuvwxyz_ (){};=\n";
    (0..FILE_BYTES)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            alphabet[(state >> 33) as usize % alphabet.len()] as char
        })
        .collect()
}

fn git(workspace: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=b", "-c", "user.email=b@example.com"])
        .args(args)
        .current_dir(workspace)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn guard(criterion: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let (home, workspace, _remote) = layout(root.path());
    std::fs::write(
        workspace.join("envsync.toml"),
        "remote = \"../remote\"\n\n[projects.app.environments]\ndevelopment = \".env\"\n",
    )
    .unwrap();
    let env: String = (0..VALUES)
        .map(|index| format!("SECRET_{index}=value-{index:04}-{:016x}\n", index * 7919))
        .collect();
    std::fs::write(workspace.join(".env"), env).unwrap();
    std::fs::write(workspace.join(".gitignore"), ".env\n.envsync/\n").unwrap();
    std::fs::create_dir_all(workspace.join("src")).unwrap();
    let mut paths = vec!["guard".to_owned()];
    for index in 0..FILES {
        let path = format!("src/file{index}.js");
        std::fs::write(workspace.join(&path), source_text(index as u64)).unwrap();
        paths.push(path);
    }
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    git(&workspace, &["init", "-q"]);
    git(&workspace, &["add", "src", ".gitignore", "envsync.toml"]);
    let checked = envsync(&home, &workspace, &["guard", "--staged"]);
    assert!(
        String::from_utf8_lossy(&checked.stderr).contains("52 file(s) checked"),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let mut group = criterion.benchmark_group("envsync guard, 1,000 linked values");
    group.bench_function("50 files of 100 KB given as paths", |bench| {
        bench.iter(|| envsync(&home, &workspace, &paths));
    });
    group.bench_function("50 staged files of 100 KB (git repository)", |bench| {
        bench.iter(|| envsync(&home, &workspace, &["guard", "--staged"]));
    });
    group.finish();
}

criterion_group!(benches, guard);
criterion_main!(benches);
