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

use crate::dotenv::{Change, Document, DotenvError, KeyHashMap, KeyMap, KeySet};

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
    /// How theirs writes each conflicting key, should theirs' value be taken.
    theirs_text: HashMap<String, Written>,
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

/// How theirs writes a key: its value token, its whole entry, and the key it follows. Taking
/// theirs' value copies theirs' text when ours' quoting cannot hold it.
#[derive(Clone, Default)]
struct Written {
    token: Option<String>,
    line: Option<String>,
    after: Option<String>,
}

/// Merges theirs' changes since base into ours, key by key. `base` may be empty (no common
/// ancestor): then every key both sides hold with different values is a conflict.
pub fn merge3(base: &Document, ours: &Document, theirs: &Document) -> Merge {
    let base_vars = base.effective();
    let our_vars = ours.effective();
    let their_vars = theirs.effective();
    // Ours' keys in ours' order, then theirs' new keys, then keys only base still has.
    let theirs_only = their_vars
        .keys()
        .filter(|key| !our_vars.contains_key(**key));
    let base_only = base_vars
        .keys()
        .filter(|key| !our_vars.contains_key(**key) && !their_vars.contains_key(**key));
    let mut taken = Vec::new();
    let mut conflicting = Vec::new();
    let ours_first = our_vars.iter().map(|(&key, &value)| (key, Some(value)));
    let others = theirs_only.chain(base_only).map(|&key| (key, None));
    for (key, our_value) in ours_first.chain(others) {
        let their_value = their_vars.get(key).copied();
        let base_value = base_vars.get(key).copied();
        if our_value == their_value || their_value == base_value {
            continue;
        }
        if our_value == base_value {
            taken.push(key);
        } else {
            conflicting.push(key);
        }
    }
    let wanted: KeySet<'_> = taken.iter().chain(&conflicting).copied().collect();
    let forms = theirs.written_forms(&wanted);
    let additions = wanted.iter().any(|key| !our_vars.contains_key(key));
    let anchors = if additions {
        anchors(&our_vars, &their_vars)
    } else {
        KeyHashMap::default()
    };
    let newline = ours.line_ending();
    let written = |key: &str| {
        let (token, line) = forms.get(key).copied().unzip();
        Written {
            token: token.map(|text| with_line_ending(text, newline)),
            line: line.map(|text| with_line_ending(text, newline)),
            after: anchors.get(key).copied().flatten().map(str::to_owned),
        }
    };
    let changes: Vec<Change> = taken
        .iter()
        .map(|&key| {
            change(
                key,
                our_vars.get(key).copied(),
                their_vars.get(key).copied(),
                &written(key),
            )
        })
        .collect();
    let (document, failed) = if changes.is_empty() {
        (ours.clone(), Vec::new())
    } else {
        ours.apply(our_vars.clone(), &changes)
    };
    conflicting.extend(failed.iter().map(|(change, _)| change.key()));
    let owned = |value: Option<&&str>| value.map(|value| (*value).to_owned());
    let conflicts = conflicting.iter().map(|&key| Conflict {
        key: key.to_owned(),
        base: owned(base_vars.get(key)),
        ours: owned(our_vars.get(key)),
        theirs: owned(their_vars.get(key)),
    });
    Merge {
        document,
        conflicts: conflicts.collect(),
        theirs_text: conflicting
            .iter()
            .map(|&key| (key.to_owned(), written(key)))
            .collect(),
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
        let (document, failed) = self.document.apply(self.document.effective(), &changes);
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
        let mut written = self
            .theirs_text
            .get(&conflict.key)
            .cloned()
            .unwrap_or_default();
        // Theirs' text only fits theirs' value; the position fits any value.
        if wanted != conflict.theirs.as_deref() {
            written.token = None;
            written.line = None;
        }
        Some(change(
            &conflict.key,
            conflict.ours.as_deref(),
            wanted,
            &written,
        ))
    }
}

/// The change that turns `from` into `to` for `key`.
fn change(key: &str, from: Option<&str>, to: Option<&str>, written: &Written) -> Change {
    let key = key.to_owned();
    match (from, to) {
        (_, None) => Change::Remove { key },
        (Some(_), Some(value)) => Change::Set {
            key,
            value: value.to_owned(),
            written: written.token.clone(),
        },
        (None, Some(value)) => Change::Insert {
            key,
            value: value.to_owned(),
            after: written.after.clone(),
            line: written.line.clone(),
        },
    }
}

/// For each key of theirs that ours lacks, the nearest key before it (in theirs' order) that
/// ours has: where an addition of theirs goes.
fn anchors<'a>(
    our_vars: &KeyMap<'_, &str>,
    their_vars: &KeyMap<'a, &str>,
) -> KeyHashMap<'a, Option<&'a str>> {
    let mut previous = None;
    let mut anchors = KeyHashMap::default();
    for &key in their_vars.keys() {
        if our_vars.contains_key(key) {
            previous = Some(key);
        } else {
            anchors.insert(key, previous);
        }
    }
    anchors
}

/// `text` with every line terminator written as `newline` (values read the same either way).
fn with_line_ending(text: &str, newline: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_owned();
    }
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
