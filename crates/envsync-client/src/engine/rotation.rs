//! Rotation after a removal: which secrets a removed member could read and still hold the
//! value they read, derived from the history itself (so every owner sees the same list on
//! any machine), and `envsync rotate`, which replaces them in one version or dismisses them
//! with a signed record.

use indexmap::IndexMap;
use serde::Serialize;
use zeroize::Zeroizing;

use super::publish::NewVersion;
use super::push::PushOutcome;
use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::VersionRecord;
use crate::workspace::Target;

/// A secret still holding the value a removed member could read.
#[derive(Debug, Clone, Serialize)]
pub struct PendingRotation {
    pub project: String,
    pub environment: String,
    pub key: String,
    /// Who was removed, and the version whose values they could read.
    pub removed: String,
    pub since_version: u64,
}

impl Session {
    /// The keys of `target` awaiting rotation: for every removal of a member who could read
    /// the environment, the keys whose value in the verified head is still the one in the
    /// head the removal pinned, unless an owner's version since then dismissed them.
    /// Decrypting needs the user's identity; this is for owners, who can read everything.
    pub(crate) fn pending_rotations(
        &mut self,
        view: &ProjectView,
        target: &Target,
        head: &VersionRecord,
    ) -> Result<Vec<PendingRotation>> {
        let mut pending = Vec::new();
        let removals: Vec<(String, u64)> = view
            .roster
            .members
            .iter()
            .filter(|member| !member.is_active())
            .filter(|member| {
                member.history.iter().any(|standing| {
                    standing
                        .environments
                        .as_ref()
                        .is_none_or(|list| list.contains(&target.environment))
                })
            })
            .filter_map(|member| {
                let (_, heads) = member.history.last()?.until.as_ref()?;
                let pin = heads.get(&target.environment)?;
                Some((member.name.clone(), pin.number))
            })
            .collect();
        if removals.is_empty() {
            return Ok(pending);
        }
        let head_vars = self.vars_of(view, target, head)?;
        for (name, pinned) in removals {
            let (old, dismissed) = self.back_to_pinned(view, target, head, pinned)?;
            if old.body.number != pinned {
                continue;
            }
            let old_vars = self.vars_of(view, target, &old)?;
            for (key, value) in old_vars.iter() {
                if head_vars.get(key) == Some(value) && !dismissed.contains(key) {
                    pending.push(PendingRotation {
                        project: target.project.clone(),
                        environment: target.environment.clone(),
                        key: key.clone(),
                        removed: name.clone(),
                        since_version: pinned,
                    });
                }
            }
        }
        Ok(pending)
    }

    /// Walks once from `head` back to the first version numbered `pinned` or less (as
    /// [`Session::walk_back`] does), gathering the keys owners' versions dismissed on the way.
    fn back_to_pinned(
        &mut self,
        view: &ProjectView,
        target: &Target,
        head: &VersionRecord,
        pinned: u64,
    ) -> Result<(VersionRecord, Vec<String>)> {
        let mut dismissed = Vec::new();
        let mut current = head.clone();
        while current.body.number > pinned {
            let by_owner = view
                .roster
                .find(&current.body.author)
                .is_some_and(|author| author.owner_at(current.body.membership.number));
            if by_owner {
                dismissed.extend(current.body.dismissed.iter().cloned());
            }
            let Some(base) = current.body.base else { break };
            current = self.walk_back(view, target, &current, base)?;
        }
        Ok((current, dismissed))
    }

    fn vars_of(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<IndexMap<String, String>> {
        let (_, content) = self.open_version(view, target, record)?;
        Ok(Self::parse_local(target, &content)?.vars())
    }

    /// `envsync rotate KEY…`: sets new values in the linked file and pushes them as one
    /// version; with no values, an owner dismisses the keys from the reminder instead (a
    /// version with the same content, signed, naming them).
    pub fn rotate(
        &mut self,
        target: &Target,
        values: &[(String, Zeroizing<String>)],
        dismiss: &[String],
        message: &str,
    ) -> Result<PushOutcome> {
        if !dismiss.is_empty() {
            return self.dismiss_rotation(target, dismiss, message);
        }
        let local = self.local_plaintext(target)?;
        let mut document = Self::parse_local(target, &local)?;
        for (key, value) in values {
            if document.get(key).is_none() {
                return Err(ClientError::Input(format!(
                    "{}: no key `{key}` to rotate",
                    target.file_label
                )));
            }
            document.set(key, value)?;
        }
        let text = Zeroizing::new(document.into_string());
        crate::files::write_atomic(&self.workspace.linked_file(target)?, text.as_bytes())?;
        self.push(target, message)
    }

    fn dismiss_rotation(
        &mut self,
        target: &Target,
        keys: &[String],
        message: &str,
    ) -> Result<PushOutcome> {
        let view = self.project_view(&target.project)?;
        self.require_owner(&view, "dismiss rotation reminders")?;
        let head = self.require_verified_head(&view, target)?;
        let (_, content) = self.open_version(&view, target, &head)?;
        let (record, ciphertext) = self.create_version(
            &view,
            target,
            NewVersion {
                content: &content,
                message: message.to_owned(),
                base: Some(&head),
                base_content: Some(&content),
                voids_up_to: None,
                dismissed: keys.to_vec(),
            },
        )?;
        self.adopt_if_clean(target, &record, &ciphertext, &content)?;
        Ok(PushOutcome::created(record))
    }
}
