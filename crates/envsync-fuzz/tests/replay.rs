//! Replays every committed seed and crash input of every fuzz target through its check, on
//! stable: a crash the fuzzer once found fails `cargo test` if it comes back.

use std::path::PathBuf;

use envsync_fuzz::TARGETS;

/// `fuzz/seeds/TARGET` (the corpora's starting points) and `fuzz/regressions/TARGET` (every
/// input that once crashed or failed a check).
fn committed_inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        inputs.extend(dir.map(|entry| entry.expect("a readable fuzz folder").path()));
    }
    inputs.sort();
    inputs
}

#[test]
fn every_committed_input_passes_its_target() {
    let mut failures = Vec::new();
    for target in TARGETS {
        let inputs = committed_inputs(target.name);
        assert!(
            !inputs.is_empty(),
            "{}: no seeds under fuzz/seeds",
            target.name
        );
        for path in inputs {
            let data = std::fs::read(&path).expect("a readable fuzz input");
            if std::panic::catch_unwind(|| (target.check)(&data)).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "inputs that fail their target: {failures:#?}"
    );
}
