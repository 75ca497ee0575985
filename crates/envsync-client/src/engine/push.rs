use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use envsync_core::merge::diff_vars;
use envsync_core::role::Role;
use serde::Serialize;

use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{
    ChangeSummary, FORMAT, MembershipAction, Seal, Signed, VersionBody, VersionRecord, now_rfc3339,
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

/// A version about to be created: its content and where it sits.
pub(crate) struct NewVersion<'a> {
    pub content: &'a [u8],
    pub message: String,
    pub base: Option<&'a VersionRecord>,
    /// Plaintext of the base, to record which keys changed.
    pub base_content: Option<&'a [u8]>,
    /// An owner's supersede: the remote head this version voids back to `base`. `None`
    /// for an ordinary version, numbered `base + 1`.
    pub voids_up_to: Option<u64>,
    /// Keys an owner dismisses from the rotation reminder with this version.
    pub dismissed: Vec<String>,
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
        // A reader is told so before anything about the remote's head.
        self.require_push_right(&view, &target.environment)?;
        let head = self
            .verified_head(&view, target)?
            .map(|record| record.body.number);
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
        self.state
            .save_base(&record, &ciphertext, &sha256_hex(&local))?;
        Ok(PushOutcome::created(record))
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
        let number = match new.voids_up_to {
            Some(head) => head + 1,
            None => new.base.map_or(1, |base| base.body.number + 1),
        };
        let membership = view.roster.tip().ok_or_else(|| {
            ClientError::Integrity(format!("project `{}` has no members yet", view.project))
        })?;
        let identity = self.identity()?;
        let body = VersionBody {
            format: FORMAT,
            project: target.project.clone(),
            environment: target.environment.clone(),
            number,
            base: new.base.map(|base| base.body.number),
            parent_digest: new.base.map(|base| base.digest()),
            membership,
            author: identity.member_key().to_string(),
            author_name: identity.name().to_owned(),
            created_at: now_rfc3339(),
            message: new.message,
            keys: document.keys().into_iter().map(str::to_owned).collect(),
            changes: changes.into(),
            recipients: recipients.iter().map(ToString::to_string).collect(),
            ciphertext_sha256: sha256_hex(&ciphertext),
            ciphertext_size: ciphertext.len() as u64,
            dismissed: new.dismissed,
        };
        let record = Signed::sign(body, identity);
        if !self.remote.create_version(&record, &ciphertext)? {
            return Err(ClientError::Conflict(format!(
                "someone else pushed version {number} of {target} first: run `envsync sync` to merge their changes"
            )));
        }
        self.ledger.advance_environment(&record)?;
        self.ledger.keep_ciphertext(&record, &ciphertext)?;
        Ok((record, ciphertext))
    }

    fn require_push_right(&mut self, view: &ProjectView, environment: &str) -> Result<()> {
        if self.push_standing(view, environment)? {
            return Ok(());
        }
        Err(self.require_membership(view)?)
    }

    /// Whether this user may push to `environment`: `true` if so, an error for an active
    /// member whose role does not allow it, `false` for someone who is not a member (each
    /// caller says that its own way: a push files an access request, a dry run does not).
    pub(crate) fn push_standing(&mut self, view: &ProjectView, environment: &str) -> Result<bool> {
        let key = self.identity()?.member_key().to_string();
        match view.roster.find(&key) {
            Some(member) if member.may_push(environment) => Ok(true),
            Some(member) if member.is_active() => Err(ClientError::Access(format!(
                "you are a {} of project `{}` and may not push to `{environment}`: ask an owner for write access",
                member.role, view.project
            ))),
            _ => Ok(false),
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
        let (key, name) = (identity.member_key().clone(), identity.name().to_owned());
        let event = super::members::membership_event(
            identity,
            view,
            super::members::Change {
                action: MembershipAction::Add,
                key: &key,
                name: &name,
                role: Role::Owner,
                environments: None,
            },
            Default::default(),
        );
        self.remote.append_membership(&event)?;
        let mut trust = self.state.trust(&view.project)?;
        trust.add(key.as_str(), &name, "self");
        self.state.save_trust(&view.project, &trust)?;
        *view = self.project_view(&view.project.clone())?;
        Ok(())
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
        let old_ciphertext = self.fetch_ciphertext(target, &old)?;
        let content = self.decrypt(&view, target, &old, &old_ciphertext)?;
        let base_ciphertext = self.fetch_ciphertext(target, &base)?;
        let base_content = self.decrypt(&view, target, &base, &base_ciphertext)?;
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
        let head = self.remote.head(&target.project, &target.environment)?;
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
