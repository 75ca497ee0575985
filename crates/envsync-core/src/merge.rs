//! Per-key three-way merge of `.env` documents, and per-key diffs.
//!
//! `sync` merges base (the version last pulled or pushed), ours (the local file) and theirs
//! (the remote head) key by key over the values dotenv reads: a key changed on one side only
//! takes that side, the same change on both sides is fine, and different changes (a delete
//! against an edit, or two different additions) are conflicts. The result keeps ours' layout,
//! so a user's comments, order, blank lines and quoting survive a sync.

use std::collections::HashMap;
use std::fmt;

use indexmap::IndexMap;
use serde::Serialize;

use crate::dotenv::{Change, Document, DotenvError};

/// One side of a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Ours,
    Theirs,
}

/// How to settle one conflict.
#[derive(Clone, PartialEq, Eq)]
pub enum Resolution {
    Ours,
    Theirs,
    /// A value of the user's own; `None` deletes the key.
    Value(Option<String>),
}

impl From<Side> for Resolution {
    fn from(side: Side) -> Resolution {
        match side {
            Side::Ours => Resolution::Ours,
            Side::Theirs => Resolution::Theirs,
        }
    }
}

impl fmt::Debug for Resolution {
    /// A chosen value is a secret: it is not shown.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolution::Ours => formatter.write_str("Ours"),
            Resolution::Theirs => formatter.write_str("Theirs"),
            Resolution::Value(Some(_)) => formatter.write_str("Value(Some(..))"),
            Resolution::Value(None) => formatter.write_str("Value(None)"),
        }
    }
}

/// A key both sides changed differently. `None` means the key is absent on that side.
#[derive(Clone, PartialEq, Eq)]
pub struct Conflict {
    pub key: String,
    pub base: Option<String>,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

impl Conflict {
    /// The value on `side`.
    pub fn value(&self, side: Side) -> Option<&str> {
        match side {
            Side::Ours => self.ours.as_deref(),
            Side::Theirs => self.theirs.as_deref(),
        }
    }
}

impl fmt::Debug for Conflict {
    /// Values are secrets: only which sides hold the key is shown.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Conflict")
            .field("key", &self.key)
            .field("in_base", &self.base.is_some())
            .field("in_ours", &self.ours.is_some())
            .field("in_theirs", &self.theirs.is_some())
            .finish()
    }
}

/// The outcome of [`merge3`]: ours with every non-conflicting change of theirs applied, and the
/// conflicts, whose keys still hold ours' values until [`Merge::resolve`].
#[derive(Clone)]
pub struct Merge {
    pub document: Document,
    pub conflicts: Vec<Conflict>,
    /// Where theirs would put each conflicting key that ours lacks, should it be taken.
    placements: HashMap<String, Placement>,
}

#[derive(Clone)]
struct Placement {
    after: Option<String>,
    line: Option<String>,
}

impl fmt::Debug for Merge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Merge")
            .field("document", &self.document)
            .field("conflicts", &self.conflicts)
            .finish_non_exhaustive()
    }
}

/// Merges theirs' changes since base into ours, key by key. `base` may be empty (no common
/// ancestor): then every key both sides hold with different values is a conflict.
pub fn merge3(base: &Document, ours: &Document, theirs: &Document) -> Merge {
    let base_vars = base.effective();
    let our_vars = ours.effective();
    let their_vars = theirs.effective();
    let placements_of = placements(ours, &our_vars, theirs, &their_vars);
    let keys = our_vars
        .keys()
        .chain(their_vars.keys())
        .chain(base_vars.keys())
        .copied()
        .collect::<indexmap::IndexSet<&str>>();
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();
    let mut placements = HashMap::new();
    for key in keys {
        let base_value = base_vars.get(key).copied();
        let our_value = our_vars.get(key).copied();
        let their_value = their_vars.get(key).copied();
        if our_value == their_value || their_value == base_value {
            continue;
        }
        if our_value == base_value {
            changes.push(change(key, our_value, their_value, placements_of.get(key)));
            continue;
        }
        if let Some(placement) = placements_of.get(key) {
            placements.insert(key.to_owned(), placement.clone());
        }
        conflicts.push(conflict(key, base_value, our_value, their_value));
    }
    if changes.is_empty() {
        return Merge {
            document: ours.clone(),
            conflicts,
            placements,
        };
    }
    let (document, failed) = ours.apply(&changes);
    for (change, _) in failed {
        let key = change.key();
        let placement = placements_of.get(key);
        if let Some(placement) = placement {
            placements.insert(key.to_owned(), placement.clone());
        }
        let base_value = base_vars.get(key).copied();
        conflicts.push(conflict(
            key,
            base_value,
            our_vars.get(key).copied(),
            their_vars.get(key).copied(),
        ));
    }
    Merge {
        document,
        conflicts,
        placements,
    }
}

impl Merge {
    /// Settles every conflict with `choose` (asked once per conflict, in order) and returns the
    /// merged document. Fails, naming the key, if a chosen value cannot be written.
    pub fn resolve(
        self,
        mut choose: impl FnMut(&Conflict) -> Resolution,
    ) -> Result<Document, DotenvError> {
        let mut changes = Vec::new();
        for conflict in &self.conflicts {
            let wanted = match choose(conflict) {
                Resolution::Ours => continue,
                Resolution::Theirs => conflict.theirs.clone(),
                Resolution::Value(value) => value,
            };
            changes.extend(self.change_to(conflict, wanted.as_deref()));
        }
        let (document, failed) = self.document.apply(&changes);
        match failed.into_iter().next() {
            Some((_, error)) => Err(error),
            None => Ok(document),
        }
    }

    /// The change from ours' value to `wanted`; `None` if there is nothing to do.
    fn change_to(&self, conflict: &Conflict, wanted: Option<&str>) -> Option<Change> {
        if wanted == conflict.ours.as_deref() {
            return None;
        }
        let placement = self.placements.get(&conflict.key);
        let mut change = change(&conflict.key, conflict.ours.as_deref(), wanted, placement);
        // Theirs' own text only fits theirs' value; the position fits any value.
        if wanted != conflict.theirs.as_deref()
            && let Change::Insert { line, .. } = &mut change
        {
            *line = None;
        }
        Some(change)
    }
}

/// The change that turns `from` into `to` for `key`.
fn change(
    key: &str,
    from: Option<&str>,
    to: Option<&str>,
    placement: Option<&Placement>,
) -> Change {
    let key = key.to_owned();
    match (from, to) {
        (_, None) => Change::Remove { key },
        (Some(_), Some(value)) => Change::Set {
            key,
            value: value.to_owned(),
        },
        (None, Some(value)) => Change::Insert {
            key,
            value: value.to_owned(),
            after: placement.and_then(|placement| placement.after.clone()),
            line: placement.and_then(|placement| placement.line.clone()),
        },
    }
}

fn conflict(key: &str, base: Option<&str>, ours: Option<&str>, theirs: Option<&str>) -> Conflict {
    Conflict {
        key: key.to_owned(),
        base: base.map(str::to_owned),
        ours: ours.map(str::to_owned),
        theirs: theirs.map(str::to_owned),
    }
}

/// For each key of theirs that ours lacks: the nearest key before it (in theirs' order) that
/// ours has, and its entry as theirs writes it, in ours' line endings.
fn placements(
    ours: &Document,
    our_vars: &IndexMap<&str, &str>,
    theirs: &Document,
    their_vars: &IndexMap<&str, &str>,
) -> HashMap<String, Placement> {
    let newline = ours.line_ending();
    let mut previous: Option<&str> = None;
    let mut placements = HashMap::new();
    for &key in their_vars.keys() {
        if our_vars.contains_key(key) {
            previous = Some(key);
            continue;
        }
        let line = theirs
            .entry_text(key)
            .map(|text| with_line_ending(text, newline));
        let after = previous.map(str::to_owned);
        placements.insert(key.to_owned(), Placement { after, line });
    }
    placements
}

/// `text` with every line terminator written as `newline` (values read the same either way).
fn with_line_ending(text: &str, newline: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', newline)
}

/// Which keys an edit added, removed and changed (names only, never values).
#[derive(Default, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl KeyChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The keys added, removed and changed from `old` to `new`: added and changed in `new`'s order,
/// removed in `old`'s.
pub fn diff_vars(old: &IndexMap<String, String>, new: &IndexMap<String, String>) -> KeyChanges {
    let mut changes = KeyChanges::default();
    for (key, value) in new {
        match old.get(key) {
            None => changes.added.push(key.clone()),
            Some(previous) if previous != value => changes.changed.push(key.clone()),
            Some(_) => {}
        }
    }
    changes.removed = old
        .keys()
        .filter(|key| !new.contains_key(*key))
        .cloned()
        .collect();
    changes
}
