//! `${VAR}` expansion against the conformance cases recorded from dotenvx, which applies
//! dotenv-expand's rules to dotenv's parse (with an empty process environment).

use std::collections::HashSet;

use envsync_core::dotenv::Document;
use envsync_core::expand::expand;
use indexmap::IndexMap;

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/conformance/dotenv/cases.jsonl"
);

#[test]
fn expansion_matches_dotenvx_on_every_conformance_case() {
    let text = std::fs::read_to_string(CASES)
        .expect("tests/data/conformance/dotenv/cases.jsonl (copied from shared/conformance)");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let input = case["input"].as_str().unwrap();
        // envsync never runs `$(command)`; dotenvx does, so those cases cannot agree.
        if input.contains("$(") {
            continue;
        }
        let document = Document::parse(input);
        let literal: HashSet<String> = document
            .single_quoted_keys()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let expanded = expand(document.vars(), &literal, &|_| None);
        // Without a `$` there is nothing to expand: the result is dotenv's parse, which is our
        // reference for parsing (dotenvx's own parser differs on a few escapes).
        let reference = if input.contains('$') {
            "dotenvx"
        } else {
            "dotenv_js"
        };
        let expected: IndexMap<String, String> = case[reference]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| (key.clone(), value.as_str().unwrap().to_owned()))
            .collect();
        let actual: std::collections::BTreeMap<_, _> = expanded.iter().collect();
        let wanted: std::collections::BTreeMap<_, _> = expected.iter().collect();
        if actual != wanted {
            failures.push(format!(
                "{}: got {actual:?}, dotenvx {wanted:?}",
                case["id"]
            ));
        }
        checked += 1;
    }
    assert!(checked > 80, "only {checked} cases checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
