//! Values: how dotenv turns a captured value into the string it reports, and the reverse.
//!
//! Decoding mirrors dotenv's post-processing of capture group 2 exactly (`trim`, the global
//! multiline quote strip `/^(['"`])([\s\S]*)\1$/mg`, then `\n`/`\r` escapes for values that
//! started with `"`). Rendering only emits forms whose decoding is easy to prove, so that a
//! rendered value reads back unchanged wherever it is written on a line of its own.

use std::ops::Range;

use super::DotenvError;
use super::scan::is_js_space;

/// A decoded value: a byte range of the text it came from, or a new string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decoded {
    Slice(Range<usize>),
    Owned(String),
}

/// The range of `text` that JavaScript's `String.prototype.trim` keeps.
pub(super) fn js_trim(text: &str) -> Range<usize> {
    let bytes = text.as_bytes();
    let solid = |byte: Option<&u8>| byte.is_some_and(|&b| b.is_ascii_graphic());
    if solid(bytes.first()) && solid(bytes.last()) {
        return 0..text.len();
    }
    let start = text.len() - text.trim_start_matches(is_js_space).len();
    let end = text.trim_end_matches(is_js_space).len().max(start);
    start..end
}

/// Decodes an already trimmed value token the way dotenv does.
/// `may_break`: whether the token can hold a line terminator; the caller knows it cannot when
/// the token is unquoted and the file has no U+2028 or U+2029.
pub(super) fn decode(token: &str, may_break: bool) -> Decoded {
    let stripped = strip_quotes(token, may_break);
    if !token.starts_with('"') {
        return stripped;
    }
    match stripped {
        Decoded::Slice(range) => {
            unescape(&token[range.clone()]).map_or(Decoded::Slice(range), Decoded::Owned)
        }
        Decoded::Owned(text) => Decoded::Owned(unescape(&text).unwrap_or(text)),
    }
}

/// `value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2')`, where `^` and `$` see `\n`, `\r`, U+2028
/// and U+2029 as line ends and the greedy `[\s\S]*` closes on the last possible quote.
fn strip_quotes(value: &str, may_break: bool) -> Decoded {
    let bytes = value.as_bytes();
    let one_line = !may_break || !bytes.iter().any(|&b| matches!(b, b'\n' | b'\r' | 0xe2));
    if one_line {
        // The common case: only a quote pair around the whole value can match.
        let quoted = bytes.len() >= 2
            && matches!(bytes[0], b'\'' | b'"' | b'`')
            && bytes[bytes.len() - 1] == bytes[0];
        return Decoded::Slice(if quoted {
            1..bytes.len() - 1
        } else {
            0..bytes.len()
        });
    }
    let mut kept: Vec<Range<usize>> = Vec::new();
    let mut copied_to = 0;
    let mut at = 0;
    while at < bytes.len() {
        let at_line_start = at == 0 || ends_with_terminator(&bytes[..at]);
        if at_line_start
            && matches!(bytes[at], b'\'' | b'"' | b'`')
            && let Some(close) = last_closing(bytes, at)
        {
            kept.push(copied_to..at);
            kept.push(at + 1..close);
            copied_to = close + 1;
            at = close + 1;
        } else {
            at += 1;
        }
    }
    kept.push(copied_to..bytes.len());
    kept.retain(|range| !range.is_empty());
    match kept.as_slice() {
        [] => Decoded::Slice(0..0),
        [only] => Decoded::Slice(only.clone()),
        pieces => Decoded::Owned(pieces.iter().map(|range| &value[range.clone()]).collect()),
    }
}

/// The last quote equal to `bytes[open]` after it that is followed by a line end.
fn last_closing(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    (open + 1..bytes.len()).rev().find(|&at| {
        bytes[at] == quote && (at + 1 == bytes.len() || starts_with_terminator(&bytes[at + 1..]))
    })
}

fn starts_with_terminator(bytes: &[u8]) -> bool {
    matches!(bytes, [b'\n' | b'\r', ..] | [0xe2, 0x80, 0xa8 | 0xa9, ..])
}

fn ends_with_terminator(bytes: &[u8]) -> bool {
    matches!(bytes, [.., b'\n' | b'\r'] | [.., 0xe2, 0x80, 0xa8 | 0xa9])
}

/// Replaces `\n` and `\r` escapes; `None` when there are none.
fn unescape(text: &str) -> Option<String> {
    let escapes = text
        .match_indices('\\')
        .any(|(at, _)| matches!(text.as_bytes().get(at + 1), Some(b'n' | b'r')));
    if !escapes {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escaped = match rest.as_bytes().get(at + 1) {
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            _ => None,
        };
        match escaped {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 2..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// How a value is written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Plain,
    Single,
    /// Double quotes; `raw_newlines` writes line feeds as they are instead of as `\n`.
    Double {
        raw_newlines: bool,
    },
    Backtick,
}

impl Style {
    /// The style of an existing, trimmed value token.
    pub(super) fn of(token: &str) -> Style {
        let quoted =
            |quote: char| token.len() >= 2 && token.starts_with(quote) && token.ends_with(quote);
        if quoted('\'') {
            Style::Single
        } else if quoted('"') {
            Style::Double {
                raw_newlines: token.contains(['\n', '\r']),
            }
        } else if quoted('`') {
            Style::Backtick
        } else {
            Style::Plain
        }
    }
}

/// Writes `value` in `style`, or `None` if dotenv would not read it back unchanged.
pub(super) fn render_in(value: &str, style: Style) -> Option<String> {
    match style {
        Style::Plain => plain(value).then(|| value.to_owned()),
        Style::Single => enclose(value, '\''),
        Style::Backtick => enclose(value, '`'),
        Style::Double { raw_newlines } => double(value, raw_newlines),
    }
}

/// Every style that can hold `value`, best first: plain, then the quotes. A value with line
/// breaks prefers `"…\n…"`, which keeps it on one line and so keeps diffs line-based.
pub(super) fn candidates(value: &str) -> impl Iterator<Item = String> + '_ {
    let quoted: [Style; 3] = if value.contains(['\n', '\r']) {
        [
            Style::Double {
                raw_newlines: false,
            },
            Style::Single,
            Style::Backtick,
        ]
    } else {
        [
            Style::Single,
            Style::Double {
                raw_newlines: false,
            },
            Style::Backtick,
        ]
    };
    std::iter::once(Style::Plain)
        .chain(quoted)
        .filter_map(move |style| render_in(value, style))
}

/// [`candidates`], then forms that read back correctly only where nothing later in the file
/// can close their quote instead (quoted values ending in `\`): for edits that verify.
pub(super) fn candidates_in_context(value: &str) -> impl Iterator<Item = String> + '_ {
    let last_resort = ['\'', '`'].into_iter().filter_map(move |quote| {
        let fits = value.ends_with('\\') && !value.contains('\r') && only_escaped(value, quote);
        fits.then(|| format!("{quote}{value}{quote}"))
    });
    candidates(value).chain(last_resort)
}

/// The text that dotenv reads back as exactly `value` on a line `KEY=<text>` of its own:
/// unquoted when that is safe, else in the first quotes that can hold it.
pub fn render_value(value: &str) -> Result<String, DotenvError> {
    candidates(value)
        .next()
        .ok_or(DotenvError::Unrepresentable { key: None })
}

/// Unquoted is safe when trimming, inline comments, quote stripping and line ends cannot touch
/// it. U+2028 and U+2029 may appear (dotenv's unquoted run takes them), but not before a quote,
/// which the multiline quote strip would then see at a line start.
fn plain(value: &str) -> bool {
    let clean_ends = !value.starts_with(is_js_space) && !value.ends_with(is_js_space);
    let no_specials = !value.contains(['#', '\n', '\r']);
    let quotes = ['\'', '"', '`'];
    let no_opening_quote = !value.starts_with(quotes);
    let no_quote_after_break = ["\u{2028}", "\u{2029}"].iter().all(|separator| {
        value
            .split(separator)
            .skip(1)
            .all(|line| !line.starts_with(quotes))
    });
    clean_ends && no_specials && no_opening_quote && no_quote_after_break
}

/// Single quotes and backticks take any text in which their quote only appears escaped (`\'`,
/// which dotenv keeps as written), without `\r` (which the parser turns into a line feed), and
/// not ending in `\` (which would escape the closing quote, making the value depend on what
/// follows it in the file).
fn enclose(value: &str, quote: char) -> Option<String> {
    if value.contains('\r') || !only_escaped(value, quote) || value.ends_with('\\') {
        return None;
    }
    Some(format!("{quote}{value}{quote}"))
}

/// Every `quote` in `text` follows a backslash, so none can end a quoted value early.
fn only_escaped(text: &str, quote: char) -> bool {
    text.match_indices(quote)
        .all(|(at, _)| text[..at].ends_with('\\'))
}

/// Double quotes cannot hold a literal `\n` or `\r` (the parser would expand them).
fn double(value: &str, raw_newlines: bool) -> Option<String> {
    if !only_escaped(value, '"') || value.contains("\\n") || value.contains("\\r") {
        return None;
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\n' if !raw_newlines => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
    if out.ends_with('\\') {
        return None;
    }
    out.push('"');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(token: &str) -> String {
        match decode(token, true) {
            Decoded::Slice(range) => token[range].to_owned(),
            Decoded::Owned(text) => text,
        }
    }

    #[test]
    fn strips_matching_quotes_only() {
        assert_eq!(decoded("'a'"), "a");
        assert_eq!(decoded("'a'b"), "'a'b");
        assert_eq!(decoded("\"a\\nb\""), "a\nb");
        assert_eq!(decoded("'a\\nb'"), "a\\nb");
        assert_eq!(decoded("\"\""), "");
    }

    #[test]
    fn strips_every_quoted_line_of_a_multiline_value() {
        assert_eq!(decoded("'a'\n'b'"), "a'\n'b");
        assert_eq!(decoded("x\n'b'"), "x\nb");
    }

    #[test]
    fn renders_the_simplest_safe_form() {
        let rendered = |value: &str| render_value(value).ok();
        assert_eq!(rendered("abc").as_deref(), Some("abc"));
        assert_eq!(rendered("").as_deref(), Some(""));
        assert_eq!(rendered("a #b").as_deref(), Some("'a #b'"));
        assert_eq!(rendered("it's").as_deref(), Some("it's"));
        assert_eq!(rendered("'it'").as_deref(), Some("\"'it'\""));
        assert_eq!(rendered("a\nb").as_deref(), Some("\"a\\nb\""));
        assert_eq!(rendered("a\\nb\nc").as_deref(), Some("'a\\nb\nc'"));
        assert_eq!(rendered("'\"`\r"), None);
    }
}
