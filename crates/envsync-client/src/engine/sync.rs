use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use envsync_core::merge::{Conflict, Merge, Resolution, merge3};
use serde::Serialize;

use super::publish::NewVersion;
use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{Pin, VersionRecord};
use crate::remote::HeadWith;
use crate::workspace::Target;

#[derive(Debug, Clone, Serialize)]
pub struct SyncOutcome {
    pub project: String,
    pub environment: String,
    /// The version the workspace is now based on.
    pub version: Option<u64>,
    /// Whether remote changes were merged into the linked file.
    pub pulled: bool,
    /// The version pushed, if local changes were published.
    pub pushed: Option<u64>,
    /// Keys whose conflict was resolved (by flag or interactively).
    pub resolved: Vec<String>,
    /// Where the local file was kept (encrypted to you) when a resolution discarded a
    /// local edit (`--theirs`, or a value typed in its place).
    pub backup: Option<String>,
}

impl Session {
    /// `envsync sync`: pull, per-key three-way merge, push. `resolve` is asked about each
    /// conflicting key; `None` means it cannot decide, and then nothing is written.
    pub fn sync(
        &mut self,
        target: &Target,
        message: &str,
        resolve: &mut dyn FnMut(&Conflict) -> Option<Resolution>,
    ) -> Result<SyncOutcome> {
        let mut outcome = SyncOutcome {
            project: target.project.clone(),
            environment: target.environment.clone(),
            version: None,
            pulled: false,
            pushed: None,
            resolved: Vec::new(),
            backup: None,
        };
        // Verified first: a remote that went back is refused, never called "in sync".
        let ahead = self.head_ahead(target, HeadWith::Record);
        let view = self.project_view(&target.project)?;
        let state = self.state.read(target)?;
        let believed = self.verified_head_given(&view, target, state.as_ref(), ahead)?;
        let local = self.read_local(target)?;
        let local_changed = match (&local, &state) {
            (Some(local), Some(state)) => state.file_sha256 != sha256_hex(local),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let base_number = state.as_ref().map(|state| state.base_version);
        let (theirs, digest) = match believed {
            Some((record, digest)) if Some(record.body.number) != base_number => (record, digest),
            in_sync => {
                let remote_head = in_sync.map(|(record, _)| record.body.number);
                outcome.version = remote_head;
                if local_changed {
                    let pushed = self.push(target, message)?;
                    outcome.version = pushed.version.or(remote_head);
                    outcome.pushed = pushed.version;
                }
                return Ok(outcome);
            }
        };
        if !local_changed {
            let ciphertext = self.fetch_ciphertext(target, &theirs)?;
            let number = theirs.body.number;
            let head = (theirs, Pin { number, digest }, ciphertext);
            let pulled = self.pull_head(target, (&view, state), head, false)?;
            outcome.version = pulled.version;
            outcome.pulled = pulled.updated;
            return Ok(outcome);
        }
        let local = local.unwrap_or_default();
        self.merge_and_push(target, (&view, theirs), message, &local, resolve, outcome)
    }

    /// Merges the remote head, `theirs_record` as `view` verified it (known to be past the
    /// local base), into `local`.
    fn merge_and_push(
        &mut self,
        target: &Target,
        (view, theirs_record): (&ProjectView, VersionRecord),
        message: &str,
        local: &[u8],
        resolve: &mut dyn FnMut(&Conflict) -> Option<Resolution>,
        mut outcome: SyncOutcome,
    ) -> Result<SyncOutcome> {
        let head = theirs_record.body.number;
        let (theirs_ciphertext, theirs_content) =
            self.open_version(view, target, &theirs_record)?;
        let base_content = self.local_base_content(target)?.map(|(_, content)| content);
        let base_document = Document::parse(&String::from_utf8_lossy(
            base_content.as_deref().map_or(&[][..], Vec::as_slice),
        ));
        let ours = Self::parse_local(target, local)?;
        let theirs = Self::parse_local(target, &theirs_content)?;
        let merge = merge3(&base_document, &ours, &theirs);
        let (merged, resolved, discards) = resolve_all(merge, resolve, target, head)?;
        outcome.resolved = resolved;
        outcome.pulled = true;
        if discards {
            outcome.backup = Some(self.keep_backup(target, local)?);
        }
        let merged_text = merged.into_string();
        if Document::parse(&merged_text).vars() == theirs.vars() {
            self.write_local(
                target,
                merged_text.as_bytes(),
                &theirs_record,
                &theirs_ciphertext,
            )?;
            outcome.version = Some(head);
            return Ok(outcome);
        }
        // Push first: if another push wins the race, the local file is left untouched.
        let (record, ciphertext) = self.create_version(
            view,
            target,
            NewVersion {
                content: merged_text.as_bytes(),
                message: message.to_owned(),
                base: Some(&theirs_record),
                base_content: Some(&theirs_content),
                voids_up_to: None,
                dismissed: Vec::new(),
            },
        )?;
        self.write_local(target, merged_text.as_bytes(), &record, &ciphertext)?;
        outcome.version = Some(record.body.number);
        outcome.pushed = Some(record.body.number);
        Ok(outcome)
    }
}

/// Resolves every conflict of `merge` with `resolve`. Keys it cannot decide refuse the
/// whole merge ([`ClientError::Unmerged`]); otherwise returns the merged document, the keys
/// resolved, and whether a resolution discarded a local edit (which then gets a backup).
fn resolve_all(
    merge: Merge,
    resolve: &mut dyn FnMut(&Conflict) -> Option<Resolution>,
    target: &Target,
    head: u64,
) -> Result<(Document, Vec<String>, bool)> {
    let mut unresolved = Vec::new();
    let mut resolved = Vec::new();
    let mut discards = false;
    let merged = merge.resolve(|conflict| match resolve(conflict) {
        Some(resolution) => {
            resolved.push(conflict.key.clone());
            discards |= resolution != Resolution::Ours;
            resolution
        }
        None => {
            unresolved.push(conflict.key.clone());
            Resolution::Ours
        }
    })?;
    if !unresolved.is_empty() {
        return Err(ClientError::Unmerged {
            file: target.file_label.clone(),
            head,
            keys: unresolved,
        });
    }
    Ok((merged, resolved, discards))
}
