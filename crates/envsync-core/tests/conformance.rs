//! The recorded npm dotenv behaviour in `tests/data/conformance/dotenv/cases.jsonl` (a copy of
//! `shared/conformance/`, so a clone alone passes): every case must read as `dotenv_js` and
//! round-trip byte for byte.

use std::collections::BTreeMap;
use std::path::PathBuf;

use envsync_core::dotenv::Document;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    id: String,
    input: String,
    dotenv_js: BTreeMap<String, String>,
}

fn cases() -> Vec<Case> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/dotenv/cases.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("case on line {}: {error}", index + 1))
        })
        .collect()
}

#[test]
fn every_case_reads_as_npm_dotenv_and_round_trips() {
    let cases = cases();
    assert_eq!(cases.len(), 91, "the conformance file should hold 91 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let document = Document::parse(&case.input);
        let vars: BTreeMap<String, String> = document.vars().into_iter().collect();
        if vars != case.dotenv_js {
            failures.push(format!(
                "{}: read {vars:?}, npm dotenv reads {:?}",
                case.id, case.dotenv_js
            ));
        }
        if document.as_str() != case.input {
            failures.push(format!("{}: text does not round-trip", case.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_keeps_entries_keys_and_vars_consistent() {
    for case in cases() {
        let document = Document::parse(&case.input);
        let vars = document.vars();
        assert_eq!(
            document.keys(),
            vars.keys().map(String::as_str).collect::<Vec<_>>(),
            "{}",
            case.id
        );
        for (key, value) in &vars {
            assert_eq!(document.get(key), Some(value.as_str()), "{}", case.id);
        }
        let last = document
            .entries()
            .into_iter()
            .map(|entry| (entry.key, entry.value));
        let from_entries: BTreeMap<&str, String> =
            last.map(|(key, value)| (key, value.into_owned())).collect();
        let from_vars: BTreeMap<&str, String> = vars
            .iter()
            .map(|(key, value)| (key.as_str(), value.clone()))
            .collect();
        assert_eq!(from_entries, from_vars, "{}", case.id);
    }
}
