//! Where each key occurs in a document, found once.
//!
//! A merge asks, for every key of three 10,000-key files, what each side holds, and then edits
//! one of them. One index per document answers all of that (effective values in dotenv's
//! order, the occurrences an edit touches, how theirs writes a key) at one hash insert per
//! entry; a search per question would make merging quadratic.

use super::document::Document;
use super::keymap::{KeyMap, KeyState};

pub(crate) struct Occurrences<'a> {
    document: &'a Document,
    /// Each key's last occurrence (the one whose value counts), keys in order of first
    /// appearance.
    last: KeyMap<'a, usize>,
    /// For each slot, the previous slot with the same key.
    previous: Vec<Option<usize>>,
}

impl<'a> Occurrences<'a> {
    pub(crate) fn of(document: &'a Document) -> Occurrences<'a> {
        let mut last = KeyMap::with_capacity_and_hasher(document.slots.len(), KeyState::default());
        let previous = document
            .slots
            .iter()
            .enumerate()
            .map(|(index, slot)| last.insert(document.key_of(slot), index))
            .collect();
        Occurrences {
            document,
            last,
            previous,
        }
    }

    pub(crate) fn last(&self, key: &str) -> Option<usize> {
        self.last.get(key).copied()
    }

    /// Every occurrence of `key`, last first.
    pub(crate) fn all(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.last(key), |&index| self.previous[index])
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.last.contains_key(key)
    }

    /// The value dotenv ends up with for `key`.
    pub(crate) fn value(&self, key: &str) -> Option<&'a str> {
        let index = self.last(key)?;
        Some(self.document.value_of(&self.document.slots[index]))
    }

    /// Keys in order of first appearance.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.last.keys().copied()
    }

    /// Keys with their effective values, in order of first appearance.
    pub(crate) fn values(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        let document = self.document;
        self.last
            .iter()
            .map(move |(&key, &index)| (key, document.value_of(&document.slots[index])))
    }

    /// How `key` is written where it last occurs: its value token (trimmed, quotes included)
    /// and its whole entry without the final line terminator. A merge copies these so that a
    /// key it takes from theirs looks as its author wrote it.
    pub(crate) fn written(&self, key: &str) -> Option<(&'a str, &'a str)> {
        let document = self.document;
        let slot = &document.slots[self.last(key)?];
        let entry = &document.text[slot.extent.clone()];
        let entry = entry.strip_suffix('\n').unwrap_or(entry);
        let entry = entry.strip_suffix('\r').unwrap_or(entry);
        Some((&document.text[slot.token.clone()], entry))
    }
}
