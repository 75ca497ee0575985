//! What each fuzz target checks, as plain functions of the fuzzer's bytes.
//!
//! `fuzz/` (nightly, libFuzzer, outside the stable workspace) calls these from its
//! `fuzz_target!`s; `tests/replay.rs` runs every committed corpus file and crash input through
//! the same functions on stable, so a crash once found stays fixed. A check that fails panics:
//! that is how libFuzzer learns of it.

pub mod api_targets;
pub mod core_targets;
pub mod file_targets;
pub mod npm_dotenv;
pub mod record_targets;

/// A fuzz target: its name (the file under `fuzz/fuzz_targets/` and the folder of its corpus)
/// and its check.
pub struct Target {
    pub name: &'static str,
    pub check: fn(&[u8]),
}

/// Every target, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "dotenv",
        check: core_targets::dotenv,
    },
    Target {
        name: "lint",
        check: core_targets::lint,
    },
    Target {
        name: "expand",
        check: core_targets::expand,
    },
    Target {
        name: "merge",
        check: core_targets::merge,
    },
    Target {
        name: "config",
        check: core_targets::config,
    },
    Target {
        name: "record",
        check: record_targets::record,
    },
    Target {
        name: "age_blob",
        check: record_targets::age_blob,
    },
    Target {
        name: "api_body",
        check: api_targets::api_body,
    },
    Target {
        name: "share_bundle",
        check: file_targets::share_bundle,
    },
    Target {
        name: "credentials",
        check: file_targets::credentials,
    },
];

/// The fuzzer's bytes cut into `N` UTF-8 texts at 0xFF bytes (never part of UTF-8), so one
/// input carries several documents; `None` when a part is not UTF-8.
pub fn texts<const N: usize>(data: &[u8]) -> Option<[&str; N]> {
    let mut parts = data.splitn(N, |&byte| byte == 0xFF);
    let mut out = [""; N];
    for slot in &mut out {
        *slot = std::str::from_utf8(parts.next().unwrap_or_default()).ok()?;
    }
    Some(out)
}
