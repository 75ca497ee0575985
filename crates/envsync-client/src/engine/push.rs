use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use envsync_core::merge::diff_vars;
use envsync_core::role::Role;
use serde::Serialize;

use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{
    ChangeSummary, FORMAT, MembershipAction, MembershipBody, Signed, VersionBody, VersionRecord,
    now_rfc3339,
};
use crate::workspace::Target;

#[derive(Debug, Clone, Serialize)]
pub struct PushOutcome {
    pub project: String,
    pub environment: String,
    /// `None` when there was nothing to push.
    pub version: Option<u64>,
    pub changes: ChangeSummary,
}

/// A version about to be created: its content and where it sits.
pub(crate) struct NewVersion<'a> {
    pub content: &'a [u8],
    pub message: String,
    pub base: Option<&'a VersionRecord>,
    /// Plaintext of the base, to record which keys changed.
    pub base_content: Option<&'a [u8]>,
}

impl Session {
    /// `envsync push`: encrypts the linked file and uploads it as the next version.
    pub fn push(&mut self, target: &Target, message: &str) -> Result<PushOutcome> {
        let local = self.read_local(target)?.ok_or_else(|| {
            ClientError::Input(format!(
                "{}: no such file; nothing to push",
                target.file_label
            ))
        })?;
        Self::parse_local(target, &local)?;
        let mut view = self.project_view(&target.project)?;
        self.ensure_project_exists(&mut view)?;
        let head = self.remote.head(&target.project, &target.environment)?;
        let state = self.state.read(&target.project, &target.environment)?;
        let base_number = state.as_ref().map(|state| state.base_version);
        if head != base_number {
            return Err(remote_moved(target, head, base_number));
        }
        if let Some(state) = &state
            && state.file_sha256 == sha256_hex(&local)
        {
            return Ok(PushOutcome {
                project: target.project.clone(),
                environment: target.environment.clone(),
                version: None,
                changes: ChangeSummary::default(),
            });
        }
        let base = self
            .state
            .base_record(&target.project, &target.environment)?;
        let base_content = match self.state.base_ciphertext(&target.project, &target.environment)? {
            Some(ciphertext) if base.is_some() => Some(self.identity()?.decrypt(&ciphertext).map_err(|_| {
                ClientError::Integrity(format!(
                    "local base of {}/{} does not decrypt; delete .envsync/{}/{} and run `envsync sync`",
                    target.project, target.environment, target.project, target.environment
                ))
            })?),
            _ => None,
        };
        let (record, ciphertext) = self.create_version(
            &view,
            target,
            NewVersion {
                content: &local,
                message: message.to_owned(),
                base: base.as_ref(),
                base_content: base_content.as_deref().map(Vec::as_slice),
            },
        )?;
        self.state
            .save_base(&record, &ciphertext, &sha256_hex(&local))?;
        Ok(PushOutcome {
            project: target.project.clone(),
            environment: target.environment.clone(),
            version: Some(record.body.number),
            changes: record.body.changes,
        })
    }

    /// Encrypts `new.content` to every member who may read the environment and creates the
    /// version after `new.base`. Refuses when a recipient's key is not trusted yet, and
    /// reports a lost race as a conflict.
    pub(crate) fn create_version(
        &mut self,
        view: &ProjectView,
        target: &Target,
        new: NewVersion<'_>,
    ) -> Result<(VersionRecord, Vec<u8>)> {
        self.require_push_right(view, &target.environment)?;
        let recipients = self.trusted_recipients(view, &target.environment)?;
        let document = Document::parse(&String::from_utf8_lossy(new.content));
        let old = new
            .base_content
            .map(|content| Document::parse(&String::from_utf8_lossy(content)).vars())
            .unwrap_or_default();
        let changes = diff_vars(&old, &document.vars());
        let ciphertext = envsync_crypto::encrypt(new.content, &recipients).map_err(|error| {
            ClientError::Input(format!("encrypting {}: {error}", target.file_label))
        })?;
        let number = new.base.map_or(1, |base| base.body.number + 1);
        let identity = self.identity()?;
        let body = VersionBody {
            format: FORMAT,
            project: target.project.clone(),
            environment: target.environment.clone(),
            number,
            base: new.base.map(|base| base.body.number),
            parent_digest: new.base.map(|base| base.digest()),
            author: identity.member_key().to_string(),
            author_name: identity.name().to_owned(),
            created_at: now_rfc3339(),
            message: new.message,
            keys: document.keys().into_iter().map(str::to_owned).collect(),
            changes: changes.into(),
            recipients: recipients.iter().map(ToString::to_string).collect(),
            ciphertext_sha256: sha256_hex(&ciphertext),
            ciphertext_size: ciphertext.len() as u64,
        };
        let record = Signed::sign(body, identity);
        if !self.remote.create_version(&record, &ciphertext)? {
            return Err(ClientError::Conflict(format!(
                "someone else pushed version {number} of {}/{} first: run `envsync sync` to merge their changes",
                target.project, target.environment
            )));
        }
        Ok((record, ciphertext))
    }

    fn require_push_right(&mut self, view: &ProjectView, environment: &str) -> Result<()> {
        let key = self.identity()?.member_key().to_string();
        match view.roster.find(&key) {
            Some(member) if member.may_push(environment) => Ok(()),
            Some(member) if member.is_active() => Err(ClientError::Access(format!(
                "you are a {} of project `{}` and may not push to `{environment}`: ask an owner for write access",
                member.role, view.project
            ))),
            _ => Err(self.require_membership(view)?),
        }
    }

    /// Member keys the environment is encrypted to. Every one must be trusted by this user:
    /// a key the remote slipped in never receives a secret without the user's consent.
    pub(crate) fn trusted_recipients(
        &mut self,
        view: &ProjectView,
        environment: &str,
    ) -> Result<Vec<envsync_crypto::MemberKey>> {
        let readers = view.roster.readers_of(environment);
        let untrusted: Vec<_> = readers
            .iter()
            .filter(|member| !view.trust.contains(member.key.as_str()))
            .collect();
        if !untrusted.is_empty() {
            let listed: Vec<_> = untrusted.iter().map(|member| member.label()).collect();
            return Err(ClientError::Access(format!(
                "{} member key(s) of project `{}` are new to you: {}. Check them with their owners, then run `envsync members accept --all` (or pass --yes)",
                listed.len(),
                view.project,
                listed.join(", ")
            )));
        }
        Ok(readers
            .into_iter()
            .map(|member| member.key.clone())
            .collect())
    }

    /// The first push to a project founds it: its author becomes the first owner.
    fn ensure_project_exists(&mut self, view: &mut ProjectView) -> Result<()> {
        if !view.roster.members.is_empty() {
            return Ok(());
        }
        let identity = self.identity()?;
        let body = MembershipBody {
            format: FORMAT,
            project: view.project.clone(),
            number: 1,
            parent_digest: None,
            action: MembershipAction::Add,
            member: identity.member_key().to_string(),
            name: identity.name().to_owned(),
            role: Role::Owner,
            environments: None,
            heads: Default::default(),
            actor: identity.member_key().to_string(),
            created_at: now_rfc3339(),
        };
        let event = Signed::sign(body, identity);
        let (key, name) = (event.body.member.clone(), event.body.name.clone());
        self.remote.append_membership(&event)?;
        let mut trust = self.state.trust(&view.project)?;
        trust.add(&key, &name, "self");
        self.state.save_trust(&view.project, &trust)?;
        *view = self.project_view(&view.project.clone())?;
        Ok(())
    }

    /// `envsync rollback N`: makes version N's content the new head, as a new version.
    pub fn rollback(&mut self, target: &Target, number: u64) -> Result<PushOutcome> {
        let view = self.project_view(&target.project)?;
        let head = self.require_head(target)?;
        if number == 0 || number > head {
            return Err(ClientError::Input(format!(
                "{}/{} has versions 1 to {head}; there is no version {number}",
                target.project, target.environment
            )));
        }
        let head_record = self.fetch_record(&view, target, head, None)?;
        let old = self.fetch_record(&view, target, number, None)?;
        let old_ciphertext = self.fetch_ciphertext(target, &old)?;
        let content = self.decrypt(&view, target, &old, &old_ciphertext)?;
        let head_ciphertext = self.fetch_ciphertext(target, &head_record)?;
        let head_content = self.decrypt(&view, target, &head_record, &head_ciphertext)?;
        let (record, ciphertext) = self.create_version(
            &view,
            target,
            NewVersion {
                content: &content,
                message: format!("rollback to version {number}"),
                base: Some(&head_record),
                base_content: Some(&head_content),
            },
        )?;
        self.adopt_if_clean(target, &record, &ciphertext, &content)?;
        Ok(PushOutcome {
            project: target.project.clone(),
            environment: target.environment.clone(),
            version: Some(record.body.number),
            changes: record.body.changes,
        })
    }

    /// After this user created a version not from their file (rollback, re-encryption),
    /// moves a clean linked file along with it; a dirty one is left for `sync`.
    pub(crate) fn adopt_if_clean(
        &mut self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
        content: &[u8],
    ) -> Result<()> {
        let state = self.state.read(&target.project, &target.environment)?;
        let local = self.read_local(target)?;
        let clean = match (&state, &local) {
            (Some(state), Some(local)) => state.file_sha256 == sha256_hex(local),
            (None, None) => true,
            _ => false,
        };
        if clean {
            self.write_local(target, content, record, ciphertext)?;
        }
        Ok(())
    }
}

pub(crate) fn remote_moved(target: &Target, head: Option<u64>, base: Option<u64>) -> ClientError {
    match (head, base) {
        (Some(head), Some(base)) => ClientError::Conflict(format!(
            "{}/{} is at version {head} on the remote but you are based on version {base}: run `envsync sync`",
            target.project, target.environment
        )),
        (Some(head), None) => ClientError::Conflict(format!(
            "{}/{} already has {head} version(s) on the remote and {} was never synced: run `envsync sync` to merge it",
            target.project, target.environment, target.file_label
        )),
        (None, Some(base)) => ClientError::Integrity(format!(
            "{}/{} has no versions on the remote, but you pulled version {base} from it: is this the right remote?",
            target.project, target.environment
        )),
        (None, None) => ClientError::Conflict("nothing to compare".into()),
    }
}
