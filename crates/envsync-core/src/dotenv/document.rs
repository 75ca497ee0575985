//! The lossless document: the exact text plus where dotenv finds each entry in it.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use indexmap::IndexMap;

use super::Entry;
use super::keymap::{KeyMap, KeyState};
use super::scan::{RawMatch, is_js_space, scan};
use super::value::{Decoded, decode, js_trim};

/// A `.env` file: its exact text, and the entries dotenv reads from it.
///
/// Parsing never fails (dotenv skips what it cannot read; [`Document::warnings`] says what), and
/// [`Document::as_str`] returns the input byte for byte, so edits and merges keep comments,
/// blank lines, order, quoting and line endings.
#[derive(Clone)]
pub struct Document {
    pub(super) text: String,
    pub(super) slots: Vec<Slot>,
}

/// Where one `KEY=value` occurrence sits in the text (byte offsets of the raw text).
#[derive(Clone)]
pub(super) struct Slot {
    /// The first character of the entry (`export` or the key).
    pub first: usize,
    pub key: Range<usize>,
    /// Right after `=` (or after `: `): where the value group starts.
    pub value_start: usize,
    /// The value as written, trimmed; empty at `value_start` when there is none.
    pub token: Range<usize>,
    /// The end of the value group: everything after it on its line is blank or a comment.
    pub value_end: usize,
    /// The value dotenv reports.
    pub value: Stored,
    /// The whole lines the entry occupies, with the final line terminator.
    pub extent: Range<usize>,
}

#[derive(Clone)]
pub(super) enum Stored {
    Span(Range<usize>),
    Owned(Box<str>),
}

impl Document {
    /// Reads `text` the way npm dotenv's `parse()` does. Never fails.
    pub fn parse(text: &str) -> Document {
        let normal = Normalised::new(text);
        let matches = scan(&normal.text, normal.unicode_breaks);
        let mut slots: Vec<Slot> = matches.iter().map(|found| slot(&normal, found)).collect();
        let firsts: Vec<usize> = slots.iter().map(|slot| slot.first).collect();
        let mut previous_end = 0;
        for (index, slot) in slots.iter_mut().enumerate() {
            let next_first = firsts.get(index + 1).copied().unwrap_or(text.len());
            let neighbours = previous_end..next_first;
            slot.extent = extent(text, slot.first, slot.value_end, neighbours);
            previous_end = slot.value_end;
        }
        Document {
            text: text.to_owned(),
            slots,
        }
    }

    /// The exact text, byte for byte.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }

    /// Every `KEY=value` occurrence in file order, repeated keys included.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut lines = LineCounter::default();
        self.slots
            .iter()
            .map(|slot| Entry {
                key: self.key_of(slot),
                value: Cow::Borrowed(self.value_of(slot)),
                line: lines.line_of(&self.text, slot.key.start),
            })
            .collect()
    }

    /// The value dotenv ends up with for `key` (its last occurrence wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.last_slot(key).map(|slot| self.value_of(slot))
    }

    /// The values dotenv ends up with, keys in order of first appearance (as in the object
    /// dotenv returns).
    pub fn vars(&self) -> IndexMap<String, String> {
        // Deduplicated with the fast key hash first: one SipHash per key, not two.
        self.effective()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    /// The keys of [`Document::vars`], in the same order.
    pub fn keys(&self) -> Vec<&str> {
        self.effective().into_keys().collect()
    }

    /// Effective values by key, borrowed: what [`Document::vars`] copies.
    pub(crate) fn effective(&self) -> KeyMap<'_, &str> {
        let mut map = KeyMap::with_capacity_and_hasher(self.slots.len(), KeyState::default());
        for slot in &self.slots {
            map.insert(self.key_of(slot), self.value_of(slot));
        }
        map
    }

    pub(super) fn key_of(&self, slot: &Slot) -> &str {
        &self.text[slot.key.clone()]
    }

    pub(super) fn value_of<'a>(&'a self, slot: &'a Slot) -> &'a str {
        match &slot.value {
            Stored::Span(range) => &self.text[range.clone()],
            Stored::Owned(value) => value,
        }
    }

    pub(super) fn last_slot(&self, key: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .rev()
            .find(|slot| self.key_of(slot) == key)
    }

    /// Keys whose effective value is written in single quotes: literal text, which `${VAR}`
    /// expansion leaves alone (as a shell and dotenvx do).
    pub fn single_quoted_keys(&self) -> Vec<&str> {
        let mut keys = KeyMap::with_capacity_and_hasher(self.slots.len(), KeyState::default());
        for slot in &self.slots {
            let quoted = self.text[slot.token.clone()].starts_with('\'');
            keys.insert(self.key_of(slot), quoted);
        }
        keys.into_iter()
            .filter(|(_, quoted)| *quoted)
            .map(|(key, _)| key)
            .collect()
    }
}

impl PartialEq for Document {
    /// Equal texts are equal documents: everything else is derived from the text.
    fn eq(&self, other: &Document) -> bool {
        self.text == other.text
    }
}

impl Eq for Document {}

impl fmt::Debug for Document {
    /// Key names only: values are secrets.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Document")
            .field("keys", &self.keys())
            .field("bytes", &self.text.len())
            .finish()
    }
}

/// dotenv's `replace(/\r\n?/mg, '\n')`, remembering how to map offsets back to the raw text.
struct Normalised<'a> {
    text: Cow<'a, str>,
    /// Whether U+2028 or U+2029 occur (dotenv sees them as line ends in places).
    unicode_breaks: bool,
    /// Offsets (in the normalised text) of the `\n`s that were `\r\n`.
    shrunk: Vec<usize>,
}

impl<'a> Normalised<'a> {
    fn new(raw: &'a str) -> Normalised<'a> {
        let unicode_breaks =
            !raw.is_ascii() && (raw.contains('\u{2028}') || raw.contains('\u{2029}'));
        if !raw.contains('\r') {
            return Normalised {
                text: Cow::Borrowed(raw),
                unicode_breaks,
                shrunk: Vec::new(),
            };
        }
        let mut text = String::with_capacity(raw.len());
        let mut shrunk = Vec::new();
        let mut pieces = raw.split('\r');
        text.push_str(pieces.next().unwrap_or_default());
        for piece in pieces {
            if let Some(rest) = piece.strip_prefix('\n') {
                shrunk.push(text.len());
                text.push('\n');
                text.push_str(rest);
            } else {
                text.push('\n');
                text.push_str(piece);
            }
        }
        Normalised {
            text: Cow::Owned(text),
            unicode_breaks,
            shrunk,
        }
    }

    fn to_raw(&self, offset: usize) -> usize {
        offset + self.shrunk.partition_point(|&at| at < offset)
    }
}

/// Line numbers for offsets visited in order, counted only when asked for (parsing does not
/// need them). `\n`, `\r\n` and `\r` each end a line.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    fn line_of(&mut self, text: &str, offset: usize) -> usize {
        let bytes = &text.as_bytes()[self.offset..offset];
        let feeds = bytes.iter().filter(|&&b| b == b'\n').count();
        let lone_returns = bytes
            .iter()
            .enumerate()
            .filter(|&(at, &b)| {
                b == b'\r' && text.as_bytes().get(self.offset + at + 1) != Some(&b'\n')
            })
            .count();
        self.line += feeds + lone_returns;
        self.offset = offset;
        self.line + 1
    }
}

fn slot(normal: &Normalised<'_>, found: &RawMatch) -> Slot {
    let group = &normal.text[found.group.clone()];
    let trimmed = js_trim(group);
    let token_start = found.group.start + trimmed.start;
    let token = token_start..found.group.start + trimmed.end;
    let written = &normal.text[token.clone()];
    let may_break = normal.unicode_breaks || written.starts_with(['\'', '"', '`']);
    let value = match decode(written, may_break) {
        Decoded::Slice(range) if matches!(normal.text, Cow::Borrowed(_)) => {
            Stored::Span(token_start + range.start..token_start + range.end)
        }
        Decoded::Slice(range) => Stored::Owned(normal.text[token_start..][range].into()),
        Decoded::Owned(text) => Stored::Owned(text.into()),
    };
    let raw = |offset| normal.to_raw(offset);
    Slot {
        first: raw(found.first),
        key: raw(found.key.start)..raw(found.key.end),
        value_start: raw(found.group.start),
        token: raw(token.start)..raw(token.end),
        value_end: raw(found.group.end),
        value,
        extent: 0..0,
    }
}

/// The whole lines from `first` to the end of the line holding `value_end`, terminator included;
/// narrowed to the entry itself where another entry or junk shares its first or last line.
/// `neighbours` runs from the previous entry's value to the next entry's start: the searches
/// stay inside it, so that a file of entries on one long line is not quadratic.
fn extent(text: &str, first: usize, value_end: usize, neighbours: Range<usize>) -> Range<usize> {
    let bytes = text.as_bytes();
    let is_break = |b: &u8| matches!(b, b'\n' | b'\r');
    let line_start = bytes[neighbours.start..first]
        .iter()
        .rposition(is_break)
        .map(|at| neighbours.start + at + 1);
    let start = match line_start {
        Some(line_start) if text[line_start..first].chars().all(is_js_space) => line_start,
        None if neighbours.start == 0 && text[..first].chars().all(is_js_space) => 0,
        _ => first,
    };
    let limit = neighbours.end.max(value_end);
    let line_end = bytes[value_end..limit]
        .iter()
        .position(is_break)
        .map_or(limit, |at| value_end + at);
    let end = match &bytes[line_end..] {
        [b'\r', b'\n', ..] => line_end + 2,
        [_, ..] => line_end + 1,
        [] => line_end,
    };
    start..end.min(limit)
}
