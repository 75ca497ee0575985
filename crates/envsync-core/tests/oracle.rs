//! Differential test: the hand-written scanner against npm dotenv's own regex (the oracle in
//! envsync-fuzz's `npm_dotenv`, which the `dotenv` fuzz target also checks against).

use std::collections::BTreeMap;
use std::path::PathBuf;

use envsync_core::dotenv::Document;
use proptest::prelude::*;

#[path = "../../envsync-fuzz/src/npm_dotenv.rs"]
#[allow(dead_code)]
mod npm_dotenv;

use npm_dotenv::{line_regex, oracle};

fn entries(text: &str) -> Vec<(String, String)> {
    let document = Document::parse(text);
    let entries = document.entries();
    entries
        .into_iter()
        .map(|entry| (entry.key.to_owned(), entry.value.into_owned()))
        .collect()
}

const FRAGMENTS: &[&str] = &[
    "A", "b", "KEY", "export", " ", "=", ":", ": ", "\t", "\n", "\r\n", "\r", "#", "'", "\"", "`",
    "\\", "n", "x y", "\u{a0}", "\u{2028}", "\u{2029}", "\u{feff}", "\u{85}", "é", "$",
];

/// `default` cases, or `PROPTEST_CASES` for a longer run.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(default))
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn the_scanner_reads_what_the_regex_reads(
        parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40),
    ) {
        let regex = line_regex();
        let text = parts.concat();
        prop_assert_eq!(entries(&text), oracle(&regex, &text), "input {:?}", text);
    }
}

/// The oracle itself reads every recorded npm dotenv case as npm dotenv did.
#[test]
fn the_oracle_reads_the_conformance_cases_as_npm_dotenv() {
    #[derive(serde::Deserialize)]
    struct Case {
        id: String,
        input: String,
        dotenv_js: BTreeMap<String, String>,
    }
    let regex = line_regex();
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/dotenv/cases.jsonl");
    let text = std::fs::read_to_string(&path).expect("the conformance cases are readable");
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("a case is valid JSON");
        let read: BTreeMap<String, String> = oracle(&regex, &case.input).into_iter().collect();
        assert_eq!(read, case.dotenv_js, "{}", case.id);
    }
}

#[test]
fn the_oracle_agrees_on_known_cases() {
    let regex = line_regex();
    let cases = [
        (
            "A=1\nB='x' # c\nC=\"a\\nb\"\n",
            vec![("A", "1"), ("B", "x"), ("C", "a\nb")],
        ),
        ("KEY\n=split\n", vec![("KEY", "split")]),
        ("a=\"\nb=c\n", vec![("a", "\""), ("b", "c")]),
        ("A=foo\u{2028}bar\n", vec![("A", "foo\u{2028}bar")]),
    ];
    for (text, expected) in cases {
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(oracle(&regex, text), expected, "{text:?}");
        assert_eq!(entries(text), expected, "{text:?}");
    }
}
