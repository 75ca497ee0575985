//! Finding an environment's newest version in a bounded number of requests.
//!
//! Listing a bucket costs a request per thousand keys, listing a folder reads every name,
//! and a git tree of versions lists them all: each grows with the history. So these
//! remotes keep a `head` hint per environment (rewritten after every push, only ever a
//! hint) and probe around it. Versions are numbered 1, 2, … without gaps, because each one
//! is created only at its base's number plus one. So "version n exists" is monotone and
//! the head is the last number for which it holds: confirm the hint, gallop forward from
//! it, then bisect. An accurate hint costs two probes; a stale, missing or forged one costs
//! about 2·log2(head) more. A wrong answer can only come from a store that lies about
//! which objects exist, and the engine verifies every record it is then given.

use crate::error::Result;

/// The highest `n` for which `exists(n)`, assuming versions `1..=n` all exist. `hint` is
/// where to look first; `0` means no hint.
pub(crate) fn probe_head(hint: u64, mut exists: impl FnMut(u64) -> Result<bool>) -> Result<u64> {
    // Invariants: version `present` exists (0 stands for "nothing yet"); `absent`, once
    // known, does not.
    let mut present = 0;
    let mut absent: Option<u64> = None;
    if hint > 0 {
        if exists(hint)? {
            present = hint;
        } else {
            absent = Some(hint);
        }
    }
    let mut step: u64 = 1;
    loop {
        let candidate = present.saturating_add(step);
        if candidate == present || absent.is_some_and(|absent| candidate >= absent) {
            break;
        }
        if exists(candidate)? {
            present = candidate;
            step = step.saturating_mul(2);
        } else {
            absent = Some(candidate);
            break;
        }
    }
    while let Some(upper) = absent
        && upper - present > 1
    {
        let middle = present + (upper - present) / 2;
        if exists(middle)? {
            present = middle;
        } else {
            absent = Some(middle);
        }
    }
    Ok(present)
}

/// The hint object's text: the number, so that a person looking in the bucket can read it.
pub(crate) fn encode_hint(number: u64) -> Vec<u8> {
    format!("{number}\n").into_bytes()
}

/// A hint read from a file: `Ok` when its bytes end as [`encode_hint`] ends them (so they
/// are the whole file), else `Err` with what they say, to be read again to the end.
pub(crate) fn whole_hint(bytes: &[u8]) -> Result<u64, u64> {
    let number = decode_hint(bytes);
    if bytes.ends_with(b"\n") {
        Ok(number)
    } else {
        Err(number)
    }
}

/// A garbled hint is as good as none.
pub(crate) fn decode_hint(bytes: &[u8]) -> u64 {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the probe against a history of `head` versions, returning the answer and the
    /// number of probes it took.
    fn run(head: u64, hint: u64) -> (u64, u32) {
        let mut probes = 0;
        let found = probe_head(hint, |number| {
            probes += 1;
            Ok(number >= 1 && number <= head)
        })
        .unwrap();
        (found, probes)
    }

    #[test]
    fn finds_the_head_whatever_the_hint() {
        for head in 0..300_u64 {
            for hint in [
                0,
                1,
                head.saturating_sub(3),
                head,
                head + 1,
                head + 40,
                u64::MAX,
            ] {
                let (found, probes) = run(head, hint);
                assert_eq!(found, head, "head {head}, hint {hint}");
                let bound = 2 * (64 - (head + 1).leading_zeros()) + 3;
                assert!(probes <= bound, "head {head}, hint {hint}: {probes} probes");
            }
        }
    }

    #[test]
    fn an_accurate_hint_costs_two_probes() {
        assert_eq!(run(200, 200), (200, 2));
        assert_eq!(run(1, 1), (1, 2));
        assert_eq!(run(0, 0), (0, 1));
    }

    #[test]
    fn without_a_hint_two_hundred_versions_take_few_probes() {
        let (found, probes) = run(200, 0);
        assert_eq!(found, 200);
        assert!(probes <= 17, "{probes}");
    }

    #[test]
    fn a_store_claiming_everything_exists_still_terminates() {
        let found = probe_head(0, |_| Ok(true)).unwrap();
        assert_eq!(found, u64::MAX);
    }

    #[test]
    fn hints_round_trip_and_garbage_is_no_hint() {
        assert_eq!(decode_hint(&encode_hint(42)), 42);
        assert_eq!(decode_hint(b"forty-two"), 0);
        assert_eq!(decode_hint(&[0xff, 0xfe]), 0);
    }

    #[test]
    fn a_hint_is_whole_when_it_ends_as_written() {
        assert_eq!(whole_hint(&encode_hint(42)), Ok(42));
        assert_eq!(whole_hint(b"42"), Err(42));
        assert_eq!(whole_hint(b"garbled"), Err(0));
    }
}
