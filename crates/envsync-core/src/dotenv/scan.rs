//! A hand-written equivalent of npm dotenv's `LINE` regex and its global `exec` loop.
//!
//! dotenv scans the whole (CRLF-normalised) text with
//!
//! ```text
//! /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/mg
//! ```
//!
//! Reading the backtracking order closely shows that almost every choice in it is forced, so a
//! direct scan reproduces it exactly in linear time (a regex engine would spend most of its time
//! on the quoted alternatives, which can run across the whole file):
//!
//! * the leading `\s*`, `export\s+` and the key never profit from giving characters back, because
//!   what follows each of them cannot start with what they consumed;
//! * `\s*=` is followed by the lazy `\s*?`, whose first choice (zero) always leads to a match, as
//!   does the single whitespace after `:`; so the value group starts right after the separator;
//! * a quoted alternative skips whitespace (across lines), opens on its quote and may close on the
//!   first unescaped quote after it or on any `\`-preceded quote before that; the regex tries the
//!   farthest closing first and keeps the first after which `\s*(?:#.*)?$` holds;
//! * otherwise `[^#\r\n]+` takes the longest run, after which the tail always holds.
//!
//! JavaScript's `\s` (which includes U+FEFF and excludes U+0085), `.` and multiline `^`/`$`
//! (which also treat U+2028 and U+2029 as line terminators) are modelled exactly. The
//! differential tests in `tests/oracle.rs` compare this scan with the regex itself.

use std::ops::Range;

/// One successful `exec` of the regex, in byte offsets of the normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawMatch {
    /// The first non-whitespace character of the match: `export` or the key.
    pub first: usize,
    /// Capture group 1.
    pub key: Range<usize>,
    /// Capture group 2 before trimming; empty (at the separator's end) when it did not take part.
    pub group: Range<usize>,
    /// Where the match ends, i.e. dotenv's `lastIndex` after it.
    pub end: usize,
}

/// Runs dotenv's global `exec` loop over `text`, which must contain no `\r`;
/// `unicode_breaks` says whether it contains U+2028 or U+2029.
pub(super) fn scan(text: &str, unicode_breaks: bool) -> Vec<RawMatch> {
    let scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        unicode_breaks,
    };
    let mut matches = Vec::new();
    let mut candidate = 0;
    while candidate < text.len() {
        match scanner.match_at(candidate) {
            Ok(found) => {
                candidate = scanner.line_start_at_or_after(found.end);
                matches.push(found);
            }
            // Every line start up to `stuck` skips the same whitespace to the same failure.
            Err(stuck) => candidate = scanner.line_start_after(stuck),
        }
    }
    matches
}

/// JavaScript's `\s` (and what `String.prototype.trim` strips).
pub(super) fn is_js_space(c: char) -> bool {
    let ascii = matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ');
    let separators = matches!(
        c,
        '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}'
    );
    let others = matches!(
        c,
        '\u{205f}' | '\u{3000}' | '\u{feff}' | '\u{2028}' | '\u{2029}'
    );
    ascii || separators || others
}

/// `[\w.-]` without the `u` flag.
pub(super) fn is_key_byte(byte: u8) -> bool {
    KEY_BYTES[usize::from(byte)]
}

/// [`is_key_byte`] as a table: keys are most of what the scanner reads.
static KEY_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
        byte += 1;
    }
    table
};

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Whether the text has U+2028 or U+2029; if not, `\n` is the only line terminator and
    /// lines can be found with a fast byte search.
    unicode_breaks: bool,
}

impl Scanner<'_> {
    /// The regex anchored at line start `start`; on failure, where the leading whitespace ended.
    fn match_at(&self, start: usize) -> Result<RawMatch, usize> {
        let first = self.skip_space(start);
        if self.bytes[first..].starts_with(b"export")
            && let Some(width) = self.space_width(first + 6)
            && let Some(found) = self.match_from_key(first, self.skip_space(first + 6 + width))
        {
            return Ok(found);
        }
        self.match_from_key(first, first).ok_or(first)
    }

    fn match_from_key(&self, first: usize, key_start: usize) -> Option<RawMatch> {
        let key_len = self.bytes[key_start..]
            .iter()
            .take_while(|&&b| is_key_byte(b))
            .count();
        if key_len == 0 {
            return None;
        }
        let key_end = key_start + key_len;
        let after_space = self.skip_space(key_end);
        let value_start = if self.bytes.get(after_space) == Some(&b'=') {
            after_space + 1
        } else if self.bytes.get(key_end) == Some(&b':') {
            key_end + 1 + self.space_width(key_end + 1)?
        } else {
            return None;
        };
        let (group_end, end) = self.value(value_start);
        Some(RawMatch {
            first,
            key: key_start..key_end,
            group: value_start..group_end,
            end,
        })
    }

    /// Group 2 and the tail from `start`: returns (group end, match end).
    fn value(&self, start: usize) -> (usize, usize) {
        let open = self.skip_space(start);
        if let Some(&quote) = self.bytes.get(open)
            && matches!(quote, b'\'' | b'"' | b'`')
            && let Some((close, end)) = self.closing(open, quote)
        {
            return (close + 1, end);
        }
        // `[^#\r\n]+`; the normalised text has no `\r`.
        let run = self.bytes[start..]
            .iter()
            .position(|&b| b == b'#' || b == b'\n');
        let group_end = run.map_or(self.bytes.len(), |run| start + run);
        // The tail always holds after the longest run or an absent group (see the module docs).
        (group_end, self.tail(group_end).unwrap_or(group_end))
    }

    /// The closing quote a backtracking engine settles on, and the match end after it.
    fn closing(&self, open: usize, quote: u8) -> Option<(usize, usize)> {
        let unescaped = if self.bytes.get(open + 1) == Some(&quote) {
            Some(open + 1)
        } else {
            let mut from = open + 2;
            loop {
                match self.find(quote, from) {
                    Some(at) if self.bytes[at - 1] == b'\\' => from = at + 1,
                    found => break found,
                }
            }
        };
        if let Some(close) = unescaped
            && let Some(end) = self.tail(close + 1)
        {
            return Some((close, end));
        }
        let upper = unescaped.unwrap_or(self.bytes.len());
        (open + 2..upper)
            .rev()
            .filter(|&at| self.bytes[at] == quote && self.bytes[at - 1] == b'\\')
            .find_map(|close| Some((close, self.tail(close + 1)?)))
    }

    /// `\s*(?:#.*)?$` from `from`: the match end, or `None` if it cannot hold.
    fn tail(&self, from: usize) -> Option<usize> {
        let mut at = from;
        let mut last_terminator = None;
        while let Some(width) = self.space_width(at) {
            if self.is_terminator(at) {
                last_terminator = Some(at);
            }
            at += width;
        }
        if at == self.bytes.len() {
            Some(at)
        } else if self.bytes[at] == b'#' {
            Some(self.line_end(at))
        } else {
            last_terminator
        }
    }

    fn skip_space(&self, mut at: usize) -> usize {
        while let Some(width) = self.space_width(at) {
            at += width;
        }
        at
    }

    /// The byte width of the JavaScript whitespace character at `at`, if there is one.
    fn space_width(&self, at: usize) -> Option<usize> {
        let byte = *self.bytes.get(at)?;
        if byte.is_ascii() {
            return matches!(byte, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ').then_some(1);
        }
        let c = self.text.get(at..)?.chars().next()?;
        is_js_space(c).then(|| c.len_utf8())
    }

    /// A JavaScript line terminator (`\n`, `\r`, U+2028, U+2029) starts at `at`.
    fn is_terminator(&self, at: usize) -> bool {
        terminator_width(&self.bytes[at..]) > 0
    }

    /// The first line terminator at or after `at`, or the end of the text.
    fn line_end(&self, at: usize) -> usize {
        if !self.unicode_breaks {
            return self.find(b'\n', at).unwrap_or(self.bytes.len());
        }
        let mut at = at;
        while at < self.bytes.len() && terminator_width(&self.bytes[at..]) == 0 {
            at += 1;
        }
        at
    }

    /// The first `byte` (ASCII) at or after `from`, by the standard library's `memchr`.
    fn find(&self, byte: u8, from: usize) -> Option<usize> {
        // Bytes skipped to reach a character boundary continue a character: none is ASCII.
        if self.bytes.get(from) == Some(&byte) {
            return Some(from);
        }
        let start = (from..self.bytes.len()).find(|&at| self.text.is_char_boundary(at))?;
        self.text[start..]
            .find(char::from(byte))
            .map(|at| start + at)
    }

    fn line_start_after(&self, at: usize) -> usize {
        let end = self.line_end(at);
        end + terminator_width(&self.bytes[end..]).max(1)
    }

    fn line_start_at_or_after(&self, at: usize) -> usize {
        let after_terminator = at == 0
            || matches!(self.bytes.get(at - 1), Some(b'\n' | b'\r'))
            || (at >= 3 && matches!(&self.bytes[at - 3..at], [0xe2, 0x80, 0xa8 | 0xa9]));
        if after_terminator {
            at
        } else {
            self.line_start_after(at)
        }
    }
}

/// Width of the line terminator at the start of `bytes`, or 0.
fn terminator_width(bytes: &[u8]) -> usize {
    match bytes {
        [b'\n' | b'\r', ..] => 1,
        [0xe2, 0x80, 0xa8 | 0xa9, ..] => 3,
        _ => 0,
    }
}
