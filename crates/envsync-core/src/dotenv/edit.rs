//! Editing a document in place, checked by parsing the result.
//!
//! dotenv's grammar reaches across lines (an empty value can pick up a quoted line below it, an
//! unclosed quote can close on a later line), so a local text edit cannot be proved safe by
//! looking at the edited line alone. Every edit is therefore verified: the new text is parsed and
//! must read exactly as intended, every other key unchanged. When the preferred form fails, the
//! next one is tried; when none works, the edit is refused with the key named.

use super::document::Document;
use super::forms::Splice;
use super::index::Occurrences;
use super::keymap::KeyMap;
use super::verify::reads_as_planned;
use super::{DotenvError, is_valid_key};

/// One key's change, as a merge or a conflict resolution produces it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Update the last occurrence in place (keeping its quoting where possible, else writing
    /// the value as `written`, its text in the file it comes from, if given), or append.
    Set {
        key: String,
        value: String,
        written: Option<String>,
    },
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
        if self.get(key) == Some(value) {
            return Ok(());
        }
        let change = Change::Set {
            key: key.to_owned(),
            value: value.to_owned(),
            written: None,
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
            .unwrap_or_else(|_| self.reparsed(self.removal(key, "", &Occurrences::of(self))));
        true
    }

    /// Applies `changes` in one pass when that reads back as intended, else one by one.
    /// `occurrences` must index `self`; callers have it already. Returns the new document and
    /// the changes that could not be applied.
    pub(crate) fn apply(
        &self,
        occurrences: &Occurrences<'_>,
        changes: &[Change],
    ) -> (Document, Vec<(Change, DotenvError)>) {
        let mut splices = Vec::new();
        let mut planned = Vec::with_capacity(changes.len());
        let mut failed = Vec::new();
        for change in changes {
            match self.attempts(change, occurrences).next() {
                Some(splice) => {
                    splices.extend(splice);
                    planned.push(change);
                }
                None => failed.push((change.clone(), unrepresentable(change.key()))),
            }
        }
        let batch = self.reparsed(splices);
        if reads_as_planned(self, occurrences, &planned, &batch) {
            return (batch, failed);
        }
        let mut expected: KeyMap<'_, &str> = occurrences.values().collect();
        for change in &planned {
            record(&mut expected, change);
        }
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
        self.attempts(change, &Occurrences::of(self))
            .map(|splices| self.reparsed(splices))
            .find(|candidate| candidate.effective() == expected)
            .ok_or_else(|| unrepresentable(change.key()))
    }

    /// The document with `splices` (non-overlapping; insertions at one place keep their order).
    pub(super) fn reparsed(&self, mut splices: Vec<Splice>) -> Document {
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
fn record<'a>(expected: &mut KeyMap<'a, &'a str>, change: &'a Change) {
    match change {
        Change::Set { key, value, .. } | Change::Insert { key, value, .. } => {
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
