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

use crate::dotenv::{Change, Document, DotenvError, KeyHashMap, Occurrences};

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
    let vars = Sides {
        base: Occurrences::of(base),
        ours: Occurrences::of(ours),
        theirs: Occurrences::of(theirs),
    };
    let (taken, mut conflicting) = vars.classify();
    let written = vars.written_by_theirs(ours, taken.iter().chain(&conflicting).copied());
    let unwritten = Written::default();
    let changes: Vec<Change> = taken
        .iter()
        .map(|&key| {
            let form = written.get(key).unwrap_or(&unwritten);
            change(key, vars.ours(key), vars.theirs(key), form)
        })
        .collect();
    let (document, failed) = if changes.is_empty() {
        (ours.clone(), Vec::new())
    } else {
        ours.apply(&vars.ours, &changes)
    };
    if !failed.is_empty() && conflicting.is_empty() && ours.effective() == base.effective() {
        // Ours changed no value, so theirs is the answer; its own text reads as theirs even
        // where ours' layout cannot hold a change (a quote left open by a removed line).
        return Merge {
            document: theirs.clone(),
            conflicts: Vec::new(),
            theirs_text: HashMap::new(),
        };
    }
    // A change of theirs that cannot be written into ours is left for the user to settle.
    conflicting.extend(failed.iter().map(|(change, _)| change.key()));
    let owned = |value: Option<&str>| value.map(str::to_owned);
    let conflicts = conflicting.iter().map(|&key| Conflict {
        key: key.to_owned(),
        base: owned(vars.base.value(key)),
        ours: owned(vars.ours(key)),
        theirs: owned(vars.theirs(key)),
    });
    Merge {
        document,
        conflicts: conflicts.collect(),
        theirs_text: conflicting
            .iter()
            .map(|&key| {
                (
                    key.to_owned(),
                    written.get(key).cloned().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// The three sides, indexed.
struct Sides<'a> {
    base: Occurrences<'a>,
    ours: Occurrences<'a>,
    theirs: Occurrences<'a>,
}

impl<'a> Sides<'a> {
    fn ours(&self, key: &str) -> Option<&'a str> {
        self.ours.value(key)
    }

    fn theirs(&self, key: &str) -> Option<&'a str> {
        self.theirs.value(key)
    }

    /// The keys to take from theirs, and the conflicting keys: ours' keys in ours' order, then
    /// theirs' new keys, then keys only base still has.
    fn classify(&self) -> (Vec<&'a str>, Vec<&'a str>) {
        let theirs_only = self.theirs.keys().filter(|key| !self.ours.contains(key));
        let base_only = self
            .base
            .keys()
            .filter(|key| !self.ours.contains(key) && !self.theirs.contains(key));
        let ours_first = self.ours.values().map(|(key, value)| (key, Some(value)));
        let others = theirs_only.chain(base_only).map(|key| (key, None));
        let (mut taken, mut conflicting) = (Vec::new(), Vec::new());
        for (key, our_value) in ours_first.chain(others) {
            let their_value = self.theirs(key);
            let base_value = self.base.value(key);
            if our_value == their_value || their_value == base_value {
                continue;
            }
            if our_value == base_value {
                taken.push(key);
            } else {
                conflicting.push(key);
            }
        }
        (taken, conflicting)
    }

    /// How theirs writes each of `keys`, in ours' line endings.
    fn written_by_theirs(
        &self,
        ours: &Document,
        keys: impl Iterator<Item = &'a str>,
    ) -> KeyHashMap<'a, Written> {
        let keys: Vec<&str> = keys.collect();
        let additions = keys.iter().any(|key| !self.ours.contains(key));
        let anchors = if additions {
            anchors(&self.ours, &self.theirs)
        } else {
            KeyHashMap::default()
        };
        let newline = ours.line_ending();
        keys.into_iter()
            .map(|key| {
                let (token, line) = self.theirs.written(key).unzip();
                let written = Written {
                    token: token.map(|text| with_line_ending(text, newline)),
                    line: line.map(|text| with_line_ending(text, newline)),
                    after: anchors.get(key).copied().flatten().map(str::to_owned),
                };
                (key, written)
            })
            .collect()
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
        let (document, failed) = self
            .document
            .apply(&Occurrences::of(&self.document), &changes);
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
    ours: &Occurrences<'_>,
    theirs: &Occurrences<'a>,
) -> KeyHashMap<'a, Option<&'a str>> {
    let mut previous = None;
    let mut anchors = KeyHashMap::default();
    for key in theirs.keys() {
        if ours.contains(key) {
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
