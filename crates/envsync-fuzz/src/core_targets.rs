//! Targets for envsync-core's formats: dotenv, its linter, `${VAR}` expansion, the three-way
//! merge and `envsync.toml`.

use std::collections::HashSet;
use std::sync::OnceLock;

use envsync_core::config::Config;
use envsync_core::dotenv::Document;
use envsync_core::expand::expand as expand_vars;
use envsync_core::merge::merge3;
use regex_automata::meta::Regex;

use crate::{npm_dotenv, texts};

/// Parsing is lossless (the text written back is the text read), and every `KEY=value` dotenv
/// reads is read with the value npm dotenv's own regex gives.
pub fn dotenv(data: &[u8]) {
    static REGEX: OnceLock<Regex> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let document = Document::parse(text);
    assert_eq!(
        document.as_str(),
        text,
        "parse -> serialise changed the text"
    );
    let read: Vec<(String, String)> = document
        .entries()
        .into_iter()
        .map(|entry| (entry.key.to_owned(), entry.value.into_owned()))
        .collect();
    let regex = REGEX.get_or_init(npm_dotenv::line_regex);
    assert!(
        read == npm_dotenv::oracle(regex, text),
        "the scanner and npm dotenv read different entries"
    );
}

/// Every warning points at a line and column that exist.
pub fn lint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let document = Document::parse(text);
    let lines = lines_of(text);
    for warning in document.warnings() {
        assert!(
            warning.line >= 1 && warning.column >= 1,
            "a 0 line or column: {warning}"
        );
        assert!(
            warning.line <= lines.len().max(1),
            "a line past the end: {warning}"
        );
        let width = lines
            .get(warning.line - 1)
            .map_or(0, |line| line.chars().count());
        assert!(
            warning.column <= width + 1,
            "a column past the line's end: {warning}"
        );
    }
}

/// The lines of `text` as the parser numbers them: `\r\n`, `\n` and a lone `\r` each end one.
fn lines_of(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find(['\n', '\r']) {
        let next = if rest[end..].starts_with("\r\n") {
            end + 2
        } else {
            end + 1
        };
        lines.push(&rest[..end]);
        rest = &rest[next..];
    }
    lines.push(rest);
    lines
}

/// Expansion terminates, keeps every key in order, and leaves single-quoted values alone. The
/// first part is the file, the second the process environment (itself a dotenv text).
pub fn expand(data: &[u8]) {
    let Some([file, env]) = texts::<2>(data) else {
        return;
    };
    let document = Document::parse(file);
    let vars = document.vars();
    let literal: HashSet<String> = document
        .single_quoted_keys()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let process = Document::parse(env).vars();
    let lookup = |key: &str| process.get(key).cloned();
    let expanded = expand_vars(vars.clone(), &literal, &lookup);
    assert!(
        expanded.keys().eq(vars.keys()),
        "expansion changed the keys"
    );
    for key in &literal {
        if process.get(key).is_none_or(String::is_empty) {
            assert_eq!(
                expanded.get(key),
                vars.get(key),
                "a single-quoted value was expanded"
            );
        }
    }
}

/// The merge never panics and never loses a change: a key only one side changed has that
/// side's value afterwards, a key both sides changed alike has it, and every other changed
/// key is a conflict that still holds ours' value.
pub fn merge(data: &[u8]) {
    let Some([base, ours, theirs]) = texts::<3>(data) else {
        return;
    };
    let [base, ours, theirs] = [base, ours, theirs].map(Document::parse);
    let merge = merge3(&base, &ours, &theirs);
    let [b, o, t, merged] = [&base, &ours, &theirs, &merge.document].map(Document::vars);
    let conflicting: HashSet<&str> = merge.conflicts.iter().map(|c| c.key.as_str()).collect();
    for key in b.keys().chain(o.keys()).chain(t.keys()) {
        let [before, mine, yours, after] = [&b, &o, &t, &merged].map(|vars| vars.get(key));
        if conflicting.contains(key.as_str()) {
            assert_eq!(after, mine, "a conflicting key lost ours' value");
        } else if mine != before {
            assert_eq!(after, mine, "ours' change was lost");
        } else {
            assert_eq!(after, yours, "theirs' change was lost");
        }
    }
}

/// A config that parses writes out as TOML that parses back to the same config.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text) {
        let written = config.to_toml();
        assert_eq!(
            Config::parse(&written).as_ref(),
            Ok(&config),
            "to_toml does not read back"
        );
    }
}
