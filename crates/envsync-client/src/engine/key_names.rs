//! Key names without values, for `diff --keys-only`. A remote head's names come from its
//! signed version record (`keys`), so nothing is decrypted: a member whose role does not
//! cover an environment, or a CI job holding only another environment's key, can still
//! check that staging and production define the same keys.

use super::{DiffSide, KeyDiff, Session};
use crate::error::{ClientError, Result};
use crate::workspace::Target;

impl Session {
    /// `target`'s key names, from its linked file when present, else from the remote head's
    /// verified record (also when its file holds another environment: `envsync use`).
    pub fn key_names(&mut self, target: &Target) -> Result<(DiffSide, Vec<String>)> {
        if target.is_displaced() {
            return self.remote_key_names(target);
        }
        match self.local_key_names(target)? {
            Some(names) => Ok((DiffSide::LocalFile, names)),
            None => self.remote_key_names(target),
        }
    }

    /// The key names of the linked file, `None` when there is no file.
    pub fn local_key_names(&self, target: &Target) -> Result<Option<Vec<String>>> {
        let Some(bytes) = self.read_local(target)? else {
            return Ok(None);
        };
        let document = Self::parse_local(target, &bytes)?;
        Ok(Some(
            document.keys().into_iter().map(str::to_owned).collect(),
        ))
    }

    /// The key names the remote head's record lists. The record is verified (signature,
    /// author's standing, chain to what this machine saw) exactly as for a pull; only the
    /// ciphertext is left alone.
    pub fn remote_key_names(&mut self, target: &Target) -> Result<(DiffSide, Vec<String>)> {
        let view = self.project_view(&target.project)?;
        let record = self.require_verified_head(&view, target)?;
        Ok((
            DiffSide::RemoteHead(record.body.number),
            record.body.keys.clone(),
        ))
    }
}

/// Keys only in `new` (added) and only in `old` (removed); without values nothing is known
/// to have changed.
pub fn key_name_diffs(old: &[String], new: &[String]) -> Vec<KeyDiff> {
    let make = |key: &String, kind| KeyDiff {
        key: key.clone(),
        kind,
        old: None,
        new: None,
    };
    let added = new
        .iter()
        .filter(|key| !old.contains(key))
        .map(|key| make(key, "added"));
    let removed = old
        .iter()
        .filter(|key| !new.contains(key))
        .map(|key| make(key, "removed"));
    added.chain(removed).collect()
}

/// The local file's key names, or the error `diff` gives when there is none.
pub fn require_local(target: &Target, names: Option<Vec<String>>) -> Result<Vec<String>> {
    names.ok_or_else(|| ClientError::NoLinkedFile {
        file: target.file_label.clone(),
        hint: "run `envsync pull`",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn only_names_present_on_one_side_differ() {
        let diffs = key_name_diffs(&names(&["A", "B", "C"]), &names(&["C", "A", "D"]));
        let seen: Vec<_> = diffs
            .iter()
            .map(|diff| (diff.kind, diff.key.as_str()))
            .collect();
        assert_eq!(seen, [("added", "D"), ("removed", "B")]);
        assert!(key_name_diffs(&names(&["A", "B"]), &names(&["B", "A"])).is_empty());
    }
}
