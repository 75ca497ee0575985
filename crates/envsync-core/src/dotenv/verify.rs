//! A cheap check that a batch of edits reads as planned.
//!
//! An edit is verified by parsing its result and comparing what dotenv reads with what was
//! intended. Comparing maps of 10,000 keys costs about as much as the parse itself. But when
//! every edit landed as written (the usual case), the new entries are the old ones, in order,
//! with the planned values, removals and additions, which one walk over both lists confirms
//! without hashing. When the walk disagrees the caller compares maps after all, since other
//! orders of entries can read the same.

use super::document::Document;
use super::edit::Change;
use super::index::Occurrences;

/// Whether `after` holds exactly `before`'s entries with `planned` (each made in its first
/// choice of place) applied.
pub(super) fn reads_as_planned(
    before: &Document,
    occurrences: &Occurrences<'_>,
    planned: &[&Change],
    after: &Document,
) -> bool {
    let count = before.slots.len();
    let mut new_values: Vec<Option<&str>> = vec![None; count];
    let mut removed = vec![false; count];
    let mut anchored: Vec<(usize, &str, &str)> = Vec::new();
    let mut appended: Vec<(&str, &str)> = Vec::new();
    for change in planned {
        match change {
            Change::Set { key, value, .. } => match occurrences.last(key) {
                Some(index) => new_values[index] = Some(value),
                None => appended.push((key, value)),
            },
            Change::Remove { key } => occurrences.all(key).for_each(|index| removed[index] = true),
            Change::Insert {
                key, value, after, ..
            } => match after.as_deref().and_then(|anchor| occurrences.last(anchor)) {
                Some(index) => anchored.push((index, key, value)),
                None => appended.push((key, value)),
            },
        }
    }
    anchored.sort_by_key(|(index, ..)| *index);
    let mut expected = Vec::with_capacity(count + anchored.len() + appended.len());
    let mut next_anchored = anchored.iter().peekable();
    for (index, slot) in before.slots.iter().enumerate() {
        if !removed[index] {
            let value = new_values[index].unwrap_or_else(|| before.value_of(slot));
            expected.push((before.key_of(slot), value));
        }
        while let Some((_, key, value)) = next_anchored.next_if(|(anchor, ..)| *anchor == index) {
            expected.push((key, value));
        }
    }
    expected.extend(appended);
    let actual = after
        .slots
        .iter()
        .map(|slot| (after.key_of(slot), after.value_of(slot)));
    expected.into_iter().eq(actual)
}
