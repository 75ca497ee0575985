//! Differential test: the hand-written scanner against npm dotenv's own regex, run by a
//! backtracking-equivalent engine (regex-automata's leftmost-first search reports the match and
//! captures a backtracking engine would), with JavaScript's character classes spelt out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use envsync_core::dotenv::Document;
use proptest::prelude::*;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

/// JavaScript's `\s`.
const SPACE: &str = r"[\t\n\x0B\x0C\r \xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]";

/// dotenv's `LINE` without its leading `^` (searches are anchored at line starts instead).
/// JavaScript's multiline `$` also holds before U+2028 and U+2029; consuming those instead only
/// moves the next search past a position where no match can start.
const LINE: &str = r#"@S*(?:export@S+)?([A-Za-z0-9_.\-]+)(?:@S*=@S*?|:@S+?)(@S*'(?:\\'|[^'])*'|@S*"(?:\\"|[^"])*"|@S*`(?:\\`|[^`])*`|[^#\r\n]+)?@S*(?:#[^\n\r\x{2028}\x{2029}]*)?(?:(?m:$)|\x{2028}|\x{2029})"#;

fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

fn is_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// npm dotenv's `parse`, every match in order.
fn oracle(regex: &Regex, text: &str) -> Vec<(String, String)> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut caps = regex.create_captures();
    let mut found = Vec::new();
    let mut last_index = 0;
    let starts = text
        .char_indices()
        .filter(|&(at, _)| at == 0 || text[..at].chars().next_back().is_some_and(is_terminator));
    for (start, _) in starts {
        if start < last_index {
            continue;
        }
        let input = Input::new(&text)
            .span(start..text.len())
            .anchored(Anchored::Yes);
        regex.search_captures(&input, &mut caps);
        let Some(end) = caps.get_match().map(|m| m.end()) else {
            continue;
        };
        let key = caps
            .get_group(1)
            .map_or("", |span| &text[span.range()])
            .to_owned();
        let group = caps.get_group(2).map_or("", |span| &text[span.range()]);
        found.push((key, decode(group)));
        last_index = end;
    }
    found
}

/// `trim`, the multiline quote strip, and `\n`/`\r` for values that started with `"`.
fn decode(group: &str) -> String {
    let value: Vec<char> = group.trim_matches(is_js_space).chars().collect();
    let mut out = String::new();
    let mut at = 0;
    while at < value.len() {
        let line_start = at == 0 || is_terminator(value[at - 1]);
        let close = (line_start && matches!(value[at], '\'' | '"' | '`'))
            .then(|| {
                (at + 1..value.len()).rev().find(|&end| {
                    value[end] == value[at] && value.get(end + 1).is_none_or(|&c| is_terminator(c))
                })
            })
            .flatten();
        match close {
            Some(end) => {
                out.extend(&value[at + 1..end]);
                at = end + 1;
            }
            None => {
                out.push(value[at]);
                at += 1;
            }
        }
    }
    if value.first() == Some(&'"') {
        out = out.replace("\\n", "\n").replace("\\r", "\r");
    }
    out
}

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
        let regex = Regex::new(&LINE.replace("@S", SPACE)).map_err(|e| TestCaseError::fail(e.to_string()))?;
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
    let regex = Regex::new(&LINE.replace("@S", SPACE)).expect("the LINE regex compiles");
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
    let regex = Regex::new(&LINE.replace("@S", SPACE)).expect("the LINE regex compiles");
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
