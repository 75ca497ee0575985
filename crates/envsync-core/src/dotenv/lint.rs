//! Warnings about lines dotenv skips or reads differently from how they look.
//!
//! dotenv never reports anything: a misspelt line simply vanishes from the environment. These
//! warnings make that visible. They name keys, lines and columns but never a value, and they do
//! not even quote a skipped line's first word unless it looks like a key name rather than, say,
//! a line of a PEM key whose opening quote dotenv did not see.

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;

use super::Warning;
use super::document::{Document, Slot};
use super::scan::{is_js_space, is_key_byte};
use super::value::Style;

impl Document {
    /// Lines dotenv ignores, keys set more than once, and quotes dotenv does not read as
    /// quotes, ordered by position.
    pub fn warnings(&self) -> Vec<Warning> {
        let linter = Linter {
            document: self,
            lines: physical_lines(&self.text),
            last_column: Cell::new(None),
        };
        let mut warnings = Vec::new();
        linter.duplicates(&mut warnings);
        let mut unclosed = Vec::new();
        for slot in &self.slots {
            linter.entry_shape(slot, &mut warnings, &mut unclosed);
        }
        linter.skipped_lines(&unclosed, &mut warnings);
        warnings.sort_by_key(|warning| (warning.line, warning.column));
        warnings
    }
}

struct Linter<'a> {
    document: &'a Document,
    /// Content ranges of the physical lines.
    lines: Vec<Range<usize>>,
    /// The last offset asked for and its column.
    last_column: Cell<Option<(usize, usize)>>,
}

impl Linter<'_> {
    fn duplicates(&self, warnings: &mut Vec<Warning>) {
        let document = self.document;
        let mut occurrences: HashMap<&str, Vec<&Slot>> = HashMap::new();
        for slot in &document.slots {
            occurrences
                .entry(document.key_of(slot))
                .or_default()
                .push(slot);
        }
        for slot in &document.slots {
            let key = document.key_of(slot);
            let (Some(first), Some(last)) = (occurrences[key].first(), occurrences[key].last())
            else {
                continue;
            };
            if first.key == slot.key {
                continue;
            }
            let winner = if last.key == slot.key {
                "this line wins".to_owned()
            } else {
                format!("line {} wins", self.line_of(last.key.start))
            };
            warnings.push(Warning {
                line: self.line_of(slot.key.start),
                column: self.column(slot.key.start),
                message: format!(
                    "`{key}` is set again here (first on line {}); {winner}",
                    self.line_of(first.key.start)
                ),
            });
        }
    }

    /// Unclosed quotes, and entries dotenv stitches together across lines.
    fn entry_shape(&self, slot: &Slot, warnings: &mut Vec<Warning>, unclosed: &mut Vec<Unclosed>) {
        let text = &self.document.text;
        let key = self.document.key_of(slot);
        let token = &text[slot.token.clone()];
        let joined = |gap: Range<usize>| text[gap].contains(['\n', '\r']);
        let stitched = if joined(slot.key.end..slot.value_start) {
            Some(format!(
                "`{key}` has no `=` on its line; dotenv joins it to the `=` on line {}",
                self.line_of(slot.value_start)
            ))
        } else if !token.is_empty() && joined(slot.value_start..slot.token.start) {
            Some(format!(
                "`{key}` has no value on its line; dotenv reads its value from line {}",
                self.line_of(slot.token.start)
            ))
        } else {
            None
        };
        if let Some(message) = stitched {
            warnings.push(Warning {
                line: self.line_of(slot.key.start),
                column: self.column(slot.key.start),
                message,
            });
        }
        let Some(quote) = token
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))
        else {
            return;
        };
        if Style::of(token) != Style::Plain {
            return;
        }
        let message = if token[1..].contains(quote) {
            format!(
                "`{key}`: text follows the closing {}, so dotenv keeps the quotes in the value",
                describe(quote)
            )
        } else {
            unclosed.push(Unclosed {
                key: key.to_owned(),
                line: self.line_of(slot.key.start),
                quote,
                value_end: slot.value_end,
            });
            format!(
                "`{key}`: the opening {} is never closed, so dotenv keeps it in the value",
                describe(quote)
            )
        };
        warnings.push(Warning {
            line: self.line_of(slot.token.start),
            column: self.column(slot.token.start),
            message,
        });
    }

    /// Non-blank, non-comment lines that no entry covers. Those right after an unclosed quote
    /// are most likely the rest of that value, and are reported as such.
    fn skipped_lines(&self, unclosed: &[Unclosed], warnings: &mut Vec<Warning>) {
        let covers: Vec<Range<usize>> = self
            .document
            .slots
            .iter()
            .map(|slot| slot.first..slot.value_end.max(slot.value_start))
            .collect();
        let (mut next_cover, mut next_unclosed) = (0, 0);
        let mut open: Option<&Unclosed> = None;
        for (index, line) in self.lines.iter().enumerate() {
            while covers
                .get(next_cover)
                .is_some_and(|cover| cover.end <= line.start)
            {
                next_cover += 1;
            }
            let covered = covers
                .get(next_cover)
                .is_some_and(|cover| cover.start < line.end);
            if covered {
                while unclosed
                    .get(next_unclosed)
                    .is_some_and(|it| it.value_end < line.start)
                {
                    next_unclosed += 1;
                }
                open = unclosed
                    .get(next_unclosed)
                    .filter(|it| it.value_end <= line.end);
                continue;
            }
            let body = self.document.text[line.clone()].trim_start_matches(is_js_space);
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let (message, offset) = match open {
                Some(quoted) => {
                    if body.contains(quoted.quote) {
                        open = None;
                    }
                    let message = format!(
                        "ignored by dotenv: looks like part of the value of `{}` (line {}), \
                         whose quote dotenv does not read across lines",
                        quoted.key, quoted.line
                    );
                    (message, 0)
                }
                None => skipped_reason(body),
            };
            warnings.push(Warning {
                line: index + 1,
                column: self.column(line.end - body.len()) + offset,
                message,
            });
        }
    }

    /// 1-based line of a raw offset.
    fn line_of(&self, offset: usize) -> usize {
        self.lines.partition_point(|line| line.end < offset) + 1
    }

    /// 1-based column, in characters, of a raw offset (a leading byte-order mark not counted).
    /// Counting resumes from the previous answer on the same line, so that many warnings on
    /// one long line (entries separated by U+2028) cost one pass over it.
    fn column(&self, offset: usize) -> usize {
        let text = &self.document.text;
        let line_start = self
            .lines
            .get(self.line_of(offset) - 1)
            .map_or(offset, |line| line.start.min(offset));
        let (mut from, mut column) = (line_start, 1);
        if let Some((known, known_column)) = self.last_column.get()
            && (line_start..=offset).contains(&known)
        {
            (from, column) = (known, known_column);
        }
        let skipped = &text[from..offset];
        let skipped = if from == 0 {
            skipped.trim_start_matches('\u{feff}')
        } else {
            skipped
        };
        column += skipped.chars().count();
        self.last_column.set(Some((offset, column)));
        column
    }
}

/// An entry whose value opens a quote that dotenv does not close.
struct Unclosed {
    key: String,
    line: usize,
    quote: char,
    value_end: usize,
}

/// Content ranges of the lines (`\n`, `\r\n` and `\r` end a line).
fn physical_lines(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => {
                lines.push(start..at);
                start = at + 1;
            }
            b'\r' => {
                lines.push(start..at);
                if bytes.get(at + 1) == Some(&b'\n') {
                    at += 1;
                }
                start = at + 1;
            }
            _ => {}
        }
        at += 1;
    }
    if start < bytes.len() {
        lines.push(start..bytes.len());
    }
    lines
}

/// Why dotenv skips a line whose first non-blank text is `body`, and how many characters into
/// `body` the problem is.
fn skipped_reason(body: &str) -> (String, usize) {
    let rest = body
        .strip_prefix("export")
        .filter(|rest| rest.starts_with(is_js_space))
        .map_or(body, |rest| rest.trim_start_matches(is_js_space));
    let key_len = rest.bytes().take_while(|&b| is_key_byte(b)).count();
    let (key, after) = rest.split_at(key_len);
    let named = if nameable(key) {
        format!("`{key}`")
    } else {
        "the key".to_owned()
    };
    let at = body[..body.len() - after.len()].chars().count();
    let message = match after.chars().next() {
        None => format!("ignored by dotenv: no `=` after {named}"),
        Some('=') if key.is_empty() => "ignored by dotenv: `=` with no key before it".to_owned(),
        Some(':') => {
            format!("ignored by dotenv: `:` after {named} needs a space after it; prefer `=`")
        }
        Some(c) if is_js_space(c) => format!("ignored by dotenv: expected `=` after {named}"),
        Some(c) => {
            return (
                format!(
                    "ignored by dotenv: invalid character {} in key",
                    describe(c)
                ),
                at,
            );
        }
    };
    (message, 0)
}

/// Whether a skipped line's first word is shown: only when it reads like a key name (short,
/// one letter case), not like a fragment of an encoded secret.
fn nameable(word: &str) -> bool {
    let single_case = !word.bytes().any(|b| b.is_ascii_lowercase())
        || !word.bytes().any(|b| b.is_ascii_uppercase());
    let starts_like_a_key = word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    (1..=40).contains(&word.len()) && single_case && starts_like_a_key
}

/// A character as a message shows it.
fn describe(c: char) -> String {
    match c {
        '`' => "backtick".to_owned(),
        '\'' => "`'`".to_owned(),
        '"' => "`\"`".to_owned(),
        c if c.is_ascii_graphic() => format!("`{c}`"),
        c => format!("U+{:04X}", u32::from(c)),
    }
}
