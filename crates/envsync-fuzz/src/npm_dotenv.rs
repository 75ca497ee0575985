//! npm dotenv's `parse`, as a differential oracle: dotenv's own `LINE` regex run by a
//! backtracking-equivalent engine (regex-automata's leftmost-first search reports the match and
//! captures a backtracking engine would), with JavaScript's character classes spelt out.
//!
//! Shared by the fuzz target `dotenv` and envsync-core's `oracle` test (which includes this
//! file by path, so the oracle is written once).

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

/// JavaScript's `\s`.
pub const SPACE: &str = r"[\t\n\x0B\x0C\r \xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]";

/// dotenv's `LINE` without its leading `^` (searches are anchored at line starts instead).
/// JavaScript's multiline `$` also holds before U+2028 and U+2029; consuming those instead only
/// moves the next search past a position where no match can start.
pub const LINE: &str = r#"@S*(?:export@S+)?([A-Za-z0-9_.\-]+)(?:@S*=@S*?|:@S+?)(@S*'(?:\\'|[^'])*'|@S*"(?:\\"|[^"])*"|@S*`(?:\\`|[^`])*`|[^#\r\n]+)?@S*(?:#[^\n\r\x{2028}\x{2029}]*)?(?:(?m:$)|\x{2028}|\x{2029})"#;

pub fn is_js_space(c: char) -> bool {
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

pub fn is_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// npm dotenv's `parse`, every match in order.
pub fn oracle(regex: &Regex, text: &str) -> Vec<(String, String)> {
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

/// The compiled `LINE` regex with JavaScript's `\s` spelt out.
pub fn line_regex() -> Regex {
    Regex::new(&LINE.replace("@S", SPACE)).expect("the LINE regex compiles")
}
