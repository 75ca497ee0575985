use envsync_core::merge::diff_vars;
use indexmap::IndexMap;

use super::Session;
use crate::error::Result;
use crate::workspace::Target;

/// Where one side of a diff came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffSide {
    LocalFile,
    RemoteHead(u64),
}

/// One key's difference. Carries values so `--show-values` can print them; deliberately
/// not `Debug`, so they cannot leak into logs.
pub struct KeyDiff {
    pub key: String,
    /// `added`, `removed` or `changed`, going from the old side to the new side.
    pub kind: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Session {
    /// Local file against the remote head: what `push` would change.
    pub fn diff_with_remote(&mut self, target: &Target) -> Result<(DiffSide, Vec<KeyDiff>)> {
        let local = self.require_local_file(target, "run `envsync pull`")?;
        let local = Self::parse_local(target, &local)?.vars();
        let (side, remote) = self.remote_head_vars(target)?;
        Ok((side, key_diffs(&remote, &local)))
    }

    /// One environment against another (e.g. staging → production), each from its linked
    /// file when present, else from its remote head.
    pub fn diff_environments(
        &mut self,
        old: &Target,
        new: &Target,
    ) -> Result<(DiffSide, DiffSide, Vec<KeyDiff>)> {
        let (old_side, old_vars) = self.environment_vars(old)?;
        let (new_side, new_vars) = self.environment_vars(new)?;
        Ok((old_side, new_side, key_diffs(&old_vars, &new_vars)))
    }

    fn environment_vars(
        &mut self,
        target: &Target,
    ) -> Result<(DiffSide, IndexMap<String, String>)> {
        // A file that holds another environment (`envsync use`) is not this one's.
        if target.is_displaced() {
            return self.remote_head_vars(target);
        }
        match self.read_local(target)? {
            Some(bytes) => Ok((
                DiffSide::LocalFile,
                Self::parse_local(target, &bytes)?.vars(),
            )),
            None => self.remote_head_vars(target),
        }
    }

    fn remote_head_vars(
        &mut self,
        target: &Target,
    ) -> Result<(DiffSide, IndexMap<String, String>)> {
        let (head, content) = self.head_plaintext(target)?;
        let vars = Self::parse_local(target, &content)?.vars();
        Ok((DiffSide::RemoteHead(head.number), vars))
    }
}

fn key_diffs(old: &IndexMap<String, String>, new: &IndexMap<String, String>) -> Vec<KeyDiff> {
    let changes = diff_vars(old, new);
    let make = |key: String, kind| KeyDiff {
        old: old.get(&key).cloned(),
        new: new.get(&key).cloned(),
        key,
        kind,
    };
    let mut diffs: Vec<KeyDiff> = Vec::new();
    diffs.extend(changes.added.into_iter().map(|key| make(key, "added")));
    diffs.extend(changes.changed.into_iter().map(|key| make(key, "changed")));
    diffs.extend(changes.removed.into_iter().map(|key| make(key, "removed")));
    diffs
}
