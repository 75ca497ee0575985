//! Editing a document in place, checked by parsing the result.
//!
//! dotenv's grammar reaches across lines (an empty value can pick up a quoted line below it, an
//! unclosed quote can close on a later line), so a local text edit cannot be proved safe by
//! looking at the edited line alone. Every edit is therefore verified: the new text is parsed and
//! must read exactly as intended, every other key unchanged. When the preferred form fails, the
//! next one is tried; when none works, the edit is refused with the key named.

use std::ops::Range;

use indexmap::IndexMap;

use super::document::{Document, Slot};
use super::value::{Style, candidates_in_context, render_in};
use super::{DotenvError, is_valid_key};

/// One key's change, as a merge or a conflict resolution produces it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Update the last occurrence in place (keeping its quoting where possible), or append.
    Set { key: String, value: String },
    /// Remove every occurrence.
    Remove { key: String },
    /// Add a key that is absent, after the line of `after` (or at the end), written as `line`
    /// (the entry's text in the file it comes from) when that reads back correctly.
    Insert {
        key: String,
        value: String,
        after: Option<String>,
        line: Option<String>,
    },
}

impl Change {
    pub(crate) fn key(&self) -> &str {
        match self {
            Change::Set { key, .. } | Change::Remove { key } | Change::Insert { key, .. } => key,
        }
    }
}

/// A replacement of `range` of the text by `text`.
struct Splice {
    range: Range<usize>,
    text: String,
}

impl Document {
    /// Sets `key` to `value`: the last occurrence is rewritten in place (keeping its quoting when
    /// the new value fits it, and its `export`, inline comment and surroundings), or a new
    /// `KEY=value` line is appended in the file's line-ending style.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), DotenvError> {
        if !is_valid_key(key) {
            return Err(DotenvError::InvalidKey {
                key: key.to_owned(),
            });
        }
        let change = Change::Set {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        *self = self.apply_one(&change)?;
        Ok(())
    }

    /// Removes every occurrence of `key` (its lines and their line terminators). Returns whether
    /// anything was removed.
    ///
    /// If deleting the lines would change how dotenv reads a neighbouring malformed line, a `#`
    /// line is left in their place; if even that does not help, the lines are deleted anyway,
    /// since the key must go (`warnings()` points at such lines).
    pub fn remove(&mut self, key: &str) -> bool {
        if self.last_slot(key).is_none() {
            return false;
        }
        let change = Change::Remove {
            key: key.to_owned(),
        };
        *self = self
            .apply_one(&change)
            .unwrap_or_else(|_| self.reparsed(self.removal(key, "")));
        true
    }

    /// Applies `changes` in one pass when that reads back as intended, else one by one.
    /// Returns the new document and the changes that could not be applied.
    pub(crate) fn apply(&self, changes: &[Change]) -> (Document, Vec<(Change, DotenvError)>) {
        let mut splices = Vec::new();
        let mut expected = self.effective();
        let mut failed = Vec::new();
        for change in changes {
            match self.first_choice(change) {
                Some(splice) => {
                    splices.extend(splice);
                    record(&mut expected, change);
                }
                None => failed.push((change.clone(), unrepresentable(change.key()))),
            }
        }
        let batch = self.reparsed(splices);
        if batch.effective() == expected {
            return (batch, failed);
        }
        let mut document = self.clone();
        let mut failed = Vec::new();
        for change in changes {
            match document.apply_one(change) {
                Ok(next) => document = next,
                Err(error) => failed.push((change.clone(), error)),
            }
        }
        (document, failed)
    }

    /// One change, trying each way of writing it until one reads back as intended.
    fn apply_one(&self, change: &Change) -> Result<Document, DotenvError> {
        let mut expected = self.effective();
        record(&mut expected, change);
        self.attempts(change)
            .into_iter()
            .map(|splices| self.reparsed(splices))
            .find(|candidate| candidate.effective() == expected)
            .ok_or_else(|| unrepresentable(change.key()))
    }

    /// The edits for `change`, preferred first.
    fn attempts(&self, change: &Change) -> Vec<Vec<Splice>> {
        match change {
            Change::Set { key, value } => match self.last_slot(key) {
                Some(slot) => self
                    .renderings_for(slot, value)
                    .map(|text| vec![self.replace_value(slot, text)])
                    .collect(),
                None => self.insertions(key, value, None, None),
            },
            Change::Remove { key } => vec![self.removal(key, ""), self.removal(key, "#")],
            Change::Insert {
                key,
                value,
                after,
                line,
            } => self.insertions(key, value, after.as_deref(), line.as_deref()),
        }
    }

    /// The preferred edit for `change`, used by the batch pass.
    fn first_choice(&self, change: &Change) -> Option<Vec<Splice>> {
        self.attempts(change).into_iter().next()
    }

    fn renderings_for<'a>(
        &self,
        slot: &Slot,
        value: &'a str,
    ) -> impl Iterator<Item = String> + use<'a> {
        let style = Style::of(&self.text[slot.token.clone()]);
        let mut seen = Vec::new();
        render_in(value, style)
            .into_iter()
            .chain(candidates_in_context(value))
            .filter(move |text| {
                let fresh = !seen.contains(text);
                seen.push(text.clone());
                fresh
            })
    }

    /// Replaces the value token; a value that dotenv read from a later line is pulled back
    /// onto the key's line.
    fn replace_value(&self, slot: &Slot, text: String) -> Splice {
        let gap = &self.text[slot.value_start..slot.token.start];
        let start = if gap.contains(['\n', '\r']) {
            slot.value_start
        } else {
            slot.token.start
        };
        Splice {
            range: start..slot.token.end,
            text,
        }
    }

    /// Deletes every occurrence's lines, leaving `placeholder` (plus a line end) in their place
    /// when it is not empty.
    fn removal(&self, key: &str, placeholder: &str) -> Vec<Splice> {
        let newline = self.line_ending();
        self.slots
            .iter()
            .filter(|slot| self.key_of(slot) == key)
            .map(|slot| Splice {
                range: slot.extent.clone(),
                text: if placeholder.is_empty() {
                    String::new()
                } else {
                    format!("{placeholder}{newline}")
                },
            })
            .collect()
    }

    /// Ways to add `key`: after `after`'s line if it exists, else at the end (else at the top);
    /// as `line` first
    /// when given, then as `KEY=value` in each style that can hold the value.
    fn insertions(
        &self,
        key: &str,
        value: &str,
        after: Option<&str>,
        line: Option<&str>,
    ) -> Vec<Vec<Splice>> {
        let mut places = Vec::new();
        if let Some(slot) = after.and_then(|anchor| self.last_slot(anchor)) {
            places.push(slot.extent.end);
        }
        places.push(self.text.len());
        // Last resort: a malformed last line (`KEY:`) can swallow anything put after it.
        places.push(self.text.len() - self.text.trim_start_matches('\u{feff}').len());
        let texts: Vec<String> = line
            .map(str::to_owned)
            .into_iter()
            .chain(candidates_in_context(value).map(|rendered| format!("{key}={rendered}")))
            .collect();
        places
            .iter()
            .flat_map(|&at| texts.iter().map(move |text| vec![self.insertion(at, text)]))
            .collect()
    }

    /// `text` as a line of its own at `at`, which is a line start or the end of the text.
    fn insertion(&self, at: usize, text: &str) -> Splice {
        let newline = self.line_ending();
        let before = &self.text[..at];
        let at_line_start =
            before.trim_start_matches('\u{feff}').is_empty() || before.ends_with(['\n', '\r']);
        let before = if at_line_start { "" } else { newline };
        Splice {
            range: at..at,
            text: format!("{before}{text}{newline}"),
        }
    }

    /// The file's line ending: that of its first line, `\n` for a file of one line.
    pub(crate) fn line_ending(&self) -> &'static str {
        let bytes = self.text.as_bytes();
        match bytes.iter().position(|&b| matches!(b, b'\n' | b'\r')) {
            Some(at) if bytes[at] == b'\n' => "\n",
            Some(at) if bytes.get(at + 1) == Some(&b'\n') => "\r\n",
            Some(_) => "\r",
            None => "\n",
        }
    }

    /// The document with `splices` (non-overlapping; insertions at one place keep their order).
    fn reparsed(&self, mut splices: Vec<Splice>) -> Document {
        splices.sort_by_key(|splice| (splice.range.start, splice.range.end));
        let mut text = String::with_capacity(self.text.len() + 64);
        let mut copied = 0;
        for splice in &splices {
            let start = splice.range.start.max(copied);
            text.push_str(&self.text[copied..start]);
            text.push_str(&splice.text);
            copied = splice.range.end.max(start);
        }
        text.push_str(&self.text[copied..]);
        Document::parse(&text)
    }
}

/// What `change` does to the effective values.
fn record<'a>(expected: &mut IndexMap<&'a str, &'a str>, change: &'a Change) {
    match change {
        Change::Set { key, value } | Change::Insert { key, value, .. } => {
            expected.insert(key, value);
        }
        Change::Remove { key } => {
            expected.swap_remove(key.as_str());
        }
    }
}

fn unrepresentable(key: &str) -> DotenvError {
    DotenvError::Unrepresentable {
        key: Some(key.to_owned()),
    }
}
