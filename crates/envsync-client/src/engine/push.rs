use envsync_core::hash::sha256_hex;
use serde::Serialize;

use super::publish::NewVersion;
use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{ChangeSummary, VersionRecord};
use crate::remote::HeadWith;
use crate::workspace::Target;

#[derive(Debug, Clone, Serialize)]
pub struct PushOutcome {
    pub project: String,
    pub environment: String,
    /// `None` when there was nothing to push.
    pub version: Option<u64>,
    pub changes: ChangeSummary,
}

impl PushOutcome {
    /// The outcome of creating `record` (a push, a rollback, a rotation).
    pub(crate) fn created(record: VersionRecord) -> Self {
        Self {
            project: record.body.project,
            environment: record.body.environment,
            version: Some(record.body.number),
            changes: record.body.changes,
        }
    }
}

/// Times a push is encrypted again for a membership log that moved under it.
const REENCRYPTIONS: usize = 3;

impl Session {
    /// `envsync push`: encrypts the linked file and uploads it as the next version.
    ///
    /// A push can lose its race without its version number being taken: a git remote
    /// refuses to replay a version on a tip where the membership log moved, since its
    /// ciphertext was meant for the old roster. Then the head is still this push's base,
    /// and the push is made again from a fresh view: encrypted for the new roster.
    pub fn push(&mut self, target: &Target, message: &str) -> Result<PushOutcome> {
        let mut attempt = 1;
        loop {
            match self.push_once(target, message) {
                Err(ClientError::PushRace { number, .. })
                    if attempt < REENCRYPTIONS && self.number_is_free(target, number)? =>
                {
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// Whether the remote's head is still version `number`'s base, so the number is free.
    fn number_is_free(&self, target: &Target, number: u64) -> Result<bool> {
        let base = number.checked_sub(1).filter(|&base| base > 0);
        Ok(self.remote.head(target)? == base)
    }

    fn push_once(&mut self, target: &Target, message: &str) -> Result<PushOutcome> {
        let local = self.require_local_file(target, "nothing to push")?;
        Self::parse_local(target, &local)?;
        let ahead = self.head_ahead(target, HeadWith::Record);
        let mut view = self.project_view(&target.project)?;
        // A project this push creates had no head to read ahead of its creation.
        let ahead = ahead.filter(|_| !view.roster.members.is_empty());
        self.ensure_project_exists(&mut view)?;
        // A reader is told so before anything about the remote's head.
        self.require_push_right(&view, &target.environment)?;
        let state = self.state.read(target)?;
        let head = self
            .verified_head_given(&view, target, state.as_ref(), ahead)?
            .map(|(record, _)| record.body.number);
        let base_number = state.as_ref().map(|state| state.base_version);
        if head != base_number {
            return Err(remote_moved(target, head, base_number));
        }
        let local_sha256 = sha256_hex(&local);
        if let Some(state) = &state
            && state.file_sha256 == local_sha256
        {
            return Ok(PushOutcome {
                project: target.project.clone(),
                environment: target.environment.clone(),
                version: None,
                changes: ChangeSummary::default(),
            });
        }
        let base = self.local_base_content(target)?;
        let (record, ciphertext) = self.create_version(
            &view,
            target,
            NewVersion {
                content: &local,
                message: message.to_owned(),
                base: base.as_ref().map(|(record, _)| record),
                base_content: base.as_ref().map(|(_, content)| content.as_slice()),
                voids_up_to: None,
                dismissed: Vec::new(),
            },
        )?;
        self.save_base(target, &record, &ciphertext, &local_sha256)?;
        Ok(PushOutcome::created(record))
    }

    /// `envsync rollback N`: makes version N's content the new head, as a new version.
    /// With `supersede` (owners), the new version builds on N itself and voids every
    /// version after it: the way out of a head that is forged, garbled or unreadable.
    /// `note` (`-m`) follows the message that says what the version does.
    pub fn rollback(
        &mut self,
        target: &Target,
        number: u64,
        supersede: bool,
        note: Option<&str>,
    ) -> Result<PushOutcome> {
        let view = self.project_view(&target.project)?;
        let (old, base, voids_up_to) = if supersede {
            self.supersede_base(&view, target, number)?
        } else {
            let head = self.require_verified_head(&view, target)?;
            let old = self.ancestor(&view, target, &head, number)?;
            (old, head, None)
        };
        let (_, content) = self.open_version(&view, target, &old)?;
        let (_, base_content) = self.open_version(&view, target, &base)?;
        let message = match voids_up_to {
            Some(head) => format!(
                "supersede versions {} to {head} with version {number}",
                number + 1
            ),
            None => format!("rollback to version {number}"),
        };
        let message = note.map_or(message.clone(), |note| format!("{message}: {note}"));
        let (record, ciphertext) = self.create_version(
            &view,
            target,
            NewVersion {
                content: &content,
                message,
                base: Some(&base),
                base_content: Some(&base_content),
                voids_up_to,
                dismissed: Vec::new(),
            },
        )?;
        self.adopt_if_clean(target, &record, &ciphertext, &content)?;
        Ok(PushOutcome::created(record))
    }

    /// Version `number` as an ancestor of `head`: versions an owner voided are not in the
    /// history and cannot be rolled back to.
    fn ancestor(
        &mut self,
        view: &ProjectView,
        target: &Target,
        head: &VersionRecord,
        number: u64,
    ) -> Result<VersionRecord> {
        if number == 0 || number > head.body.number {
            return Err(ClientError::Input(format!(
                "{target} has versions 1 to {}; there is no version {number}",
                head.body.number
            )));
        }
        let found = self.walk_back(view, target, head, number)?;
        if found.body.number != number {
            return Err(ClientError::Input(format!(
                "version {number} of {target} was voided by an owner's supersede; it is not in the history"
            )));
        }
        Ok(found)
    }

    /// For a supersede: version `number`, verified and chained to every floor at or below
    /// it, and the remote head it voids back to it. Owners only.
    fn supersede_base(
        &mut self,
        view: &ProjectView,
        target: &Target,
        number: u64,
    ) -> Result<(VersionRecord, VersionRecord, Option<u64>)> {
        self.require_owner(view, "supersede versions")?;
        let head = self.remote.head(target)?;
        let head = head
            .filter(|&head| number >= 1 && number < head)
            .ok_or_else(|| {
                ClientError::Input(format!(
                    "supersede needs a version before the remote head of {target} (at {})",
                    head.map_or_else(|| "no versions".into(), |head| format!("version {head}"))
                ))
            })?;
        let old = self.fetch_verified(view, target, number)?;
        self.chain_to_floors_below(view, target, &old)?;
        Ok((old.clone(), old, Some(head)))
    }
}

pub(crate) fn remote_moved(target: &Target, head: Option<u64>, base: Option<u64>) -> ClientError {
    ClientError::RemoteMoved {
        place: target.place.clone(),
        file: target.file_label.clone(),
        head,
        base,
    }
}
