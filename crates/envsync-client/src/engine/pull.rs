use envsync_core::hash::sha256_hex;
use serde::Serialize;

use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{Pin, VersionRecord};
use crate::remote::HeadWith;
use crate::state::EnvironmentState;
use crate::workspace::Target;

#[derive(Debug, Clone, Serialize)]
pub struct PullOutcome {
    pub project: String,
    pub environment: String,
    pub version: Option<u64>,
    /// Whether the linked file was (re)written.
    pub updated: bool,
    /// Where the overwritten local content was kept (encrypted to you), with `--force`.
    pub backup: Option<String>,
    /// Who made `version`, as the membership log names them.
    pub author: Option<String>,
}

impl PullOutcome {
    /// A pull of `target` that found no version and changed nothing.
    fn nothing(target: &Target) -> Self {
        Self {
            project: target.project.clone(),
            environment: target.environment.clone(),
            version: None,
            updated: false,
            backup: None,
            author: None,
        }
    }
}

impl Session {
    /// `envsync pull`: writes the remote head to the linked file. Unpushed local edits are
    /// never overwritten unless `force`, and then a backup encrypted to the user is kept.
    pub fn pull(&mut self, target: &Target, force: bool) -> Result<PullOutcome> {
        let ahead = self.head_ahead(target, HeadWith::Version);
        let view = self.project_view(&target.project)?;
        let state = self.state.read(target)?;
        let Some(head) = self.verified_head_version(&view, target, state.as_ref(), ahead)? else {
            if view.roster.members.is_empty() {
                return Err(self.no_project_yet(target));
            }
            return Ok(PullOutcome::nothing(target));
        };
        self.pull_head(target, (&view, state), head, force)
    }

    /// [`Session::pull`] of `head`, verified with `view` against the workspace's `state`:
    /// its record, pin and ciphertext.
    pub(crate) fn pull_head(
        &mut self,
        target: &Target,
        (view, state): (&ProjectView, Option<EnvironmentState>),
        (record, pin, ciphertext): (VersionRecord, Pin, Vec<u8>),
        force: bool,
    ) -> Result<PullOutcome> {
        let content = self.decrypt_or_ask(view, target, &record, &ciphertext)?;
        let mut outcome = PullOutcome {
            version: Some(pin.number),
            author: view.author_of(&record).map(|(name, _)| name),
            ..PullOutcome::nothing(target)
        };
        let local = self.read_local(target)?;
        if let Some(local) = &local
            && local.as_slice() != content.as_slice()
            && differs_from_base(state.as_ref(), local)
        {
            if !force {
                return Err(ClientError::LocalChanges(format!(
                    "{} has changes that are not on the remote; pulling would overwrite them. Run `envsync sync` to merge, `envsync push` to publish them, or `envsync pull --force` to overwrite (a backup is kept)",
                    target.file_label
                )));
            }
            outcome.backup = Some(self.keep_backup(target, local)?);
        }
        outcome.updated = local.as_deref() != Some(content.as_slice());
        let file_sha256 = sha256_hex(&content);
        if outcome.updated {
            self.write_local(target, &content, &record, &ciphertext)?;
        } else if !state.is_some_and(|state| state.is_base(&record, &pin.digest, &file_sha256)) {
            self.save_base(target, &record, &ciphertext, &file_sha256)?;
        }
        Ok(outcome)
    }

    /// The error for pulling a project the remote does not have yet.
    pub(crate) fn no_project_yet(&self, target: &Target) -> ClientError {
        ClientError::Input(format!(
            "project `{}` has no versions on {} yet: run `envsync push` to create it",
            target.project,
            self.remote.describe()
        ))
    }

    /// Whether the linked file differs from what envsync last wrote or pushed.
    pub(crate) fn has_unpushed_edits(&self, target: &Target, local: &[u8]) -> Result<bool> {
        let state = self.state.read(target)?;
        Ok(differs_from_base(state.as_ref(), local))
    }
}

/// Whether `local` differs from what envsync last wrote or pushed, by the workspace's state.
fn differs_from_base(state: Option<&EnvironmentState>, local: &[u8]) -> bool {
    state.is_none_or(|state| state.file_sha256 != sha256_hex(local))
}
