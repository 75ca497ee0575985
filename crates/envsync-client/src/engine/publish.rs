//! The write path: everything this user publishes goes out through here. A version is
//! encrypted only to trusted readers, numbered after its base and signed; a membership
//! entry is numbered after the log's last, chained to it and signed. The read path
//! (`verify.rs`) checks both on the way back in.

use std::collections::BTreeMap;

use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use envsync_core::merge::diff_vars;
use envsync_core::role::Role;
use envsync_crypto::MemberKey;

use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{
    FORMAT, MembershipAction, MembershipBody, Pin, Seal, Signed, VersionBody, VersionRecord,
    now_rfc3339,
};
use crate::workspace::Target;

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

/// One membership change, as the entry that records it.
pub(crate) struct Change<'a> {
    pub action: MembershipAction,
    pub key: &'a MemberKey,
    pub name: &'a str,
    pub role: Role,
    pub environments: Option<Vec<String>>,
}

impl Session {
    /// Encrypts `new.content` to every member who may read the environment and creates the
    /// version after `new.base`. Refuses when a recipient's key is not trusted yet, and
    /// reports a lost race as a conflict.
    pub(crate) fn create_version(
        &mut self,
        view: &ProjectView,
        target: &Target,
        new: NewVersion<'_>,
    ) -> Result<(VersionRecord, Vec<u8>)> {
        let (record, ciphertext) = self.seal_version(view, target, new)?;
        self.send_version(target, &record, &ciphertext)?;
        self.keep_created(target, &record, &ciphertext)?;
        Ok((record, ciphertext))
    }

    /// Creates a sealed version on the remote, reporting a lost race as a conflict.
    pub(crate) fn send_version(
        &self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
    ) -> Result<()> {
        if self.remote.create_version(record, ciphertext)? {
            return Ok(());
        }
        Err(ClientError::PushRace {
            place: target.place.clone(),
            number: record.body.number,
        })
    }

    /// The signed record and ciphertext of [`Session::create_version`], not sent yet: what a
    /// caller that sends several versions at once builds first.
    pub(crate) fn seal_version(
        &mut self,
        view: &ProjectView,
        target: &Target,
        new: NewVersion<'_>,
    ) -> Result<(VersionRecord, Vec<u8>)> {
        self.require_push_right(view, &target.environment)?;
        let recipients = self.trusted_recipients(view, &target.environment)?;
        let document = Document::parse(&String::from_utf8_lossy(new.content));
        let vars = document.vars();
        let changes = match new.base_content {
            // A re-encryption's content is its base's, byte for byte: parsed once.
            Some(base) if base == new.content => diff_vars(&vars, &vars),
            Some(base) => diff_vars(
                &Document::parse(&String::from_utf8_lossy(base)).vars(),
                &vars,
            ),
            None => diff_vars(&Default::default(), &vars),
        };
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
        Ok((Signed::sign(body, identity), ciphertext))
    }

    /// Records here a version the remote has just created: the ledger advances to it.
    pub(crate) fn keep_created(
        &mut self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
    ) -> Result<()> {
        let ledger = self.ledger.clone();
        self.write_locally(record, ciphertext, move |record, ciphertext| {
            ledger.advance_environment(record, &record.digest(), &[])?;
            ledger.keep_ciphertext(record, ciphertext)
        })?;
        // Encrypted to the current readers: no removed member reads this head any more.
        self.unrevoked_heads.remove(&target.place);
        Ok(())
    }

    pub(crate) fn require_push_right(
        &mut self,
        view: &ProjectView,
        environment: &str,
    ) -> Result<()> {
        if self.push_standing(view, environment)? {
            return Ok(());
        }
        Err(self.ask_for_access(view)?)
    }

    /// Whether this user may push to `environment`: `true` if so, an error for an active
    /// member whose role does not allow it, `false` for someone who is not a member (each
    /// caller says that its own way: a push files an access request, a dry run does not).
    pub(crate) fn push_standing(&mut self, view: &ProjectView, environment: &str) -> Result<bool> {
        let key = self.identity()?.member_key().to_string();
        match view.roster.find(&key) {
            Some(member) if member.may_push(environment) => Ok(true),
            Some(member) if member.is_active() => Err(ClientError::MayNotPush {
                project: view.project.clone(),
                role: member.role,
                environment: environment.to_owned(),
            }),
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
            return Err(ClientError::UntrustedKeys {
                project: view.project.clone(),
                keys: untrusted.iter().map(|member| member.label()).collect(),
            });
        }
        Ok(readers
            .into_iter()
            .map(|member| member.key.clone())
            .collect())
    }

    /// The one builder and publisher of membership entries: `change` as the next entry
    /// after `view`'s log, chained to its last entry, pinning `heads`, signed by this user.
    /// `false` when another entry took the number first.
    fn publish_entry(
        &mut self,
        view: &ProjectView,
        change: Change<'_>,
        heads: BTreeMap<String, Pin>,
    ) -> Result<bool> {
        let identity = self.identity()?;
        let body = MembershipBody {
            format: FORMAT,
            project: view.project.clone(),
            number: view.roster.next_number,
            parent_digest: view.roster.last_digest.clone(),
            action: change.action,
            member: change.key.to_string(),
            name: change.name.to_owned(),
            role: change.role,
            environments: change.environments,
            heads,
            actor: identity.member_key().to_string(),
            created_at: now_rfc3339(),
        };
        let event = Signed::sign(body, identity);
        self.remote.append_membership(&event)
    }

    /// The first push to a project founds it: its author becomes the first owner.
    pub(crate) fn ensure_project_exists(&mut self, view: &mut ProjectView) -> Result<()> {
        if !view.roster.members.is_empty() {
            return Ok(());
        }
        let identity = self.identity()?;
        let (key, name) = (identity.member_key().clone(), identity.name().to_owned());
        let founder = Change {
            action: MembershipAction::Add,
            key: &key,
            name: &name,
            role: Role::Owner,
            environments: None,
        };
        // A lost race means someone else founded it: the view reloaded below says who.
        self.publish_entry(view, founder, BTreeMap::new())?;
        let mut trust = self.state.trust(&view.project)?;
        trust.add(key.as_str(), &name, "self");
        self.state.save_trust(&view.project, &trust)?;
        *view = self.project_view(&view.project.clone())?;
        Ok(())
    }

    /// Appends the entry for `change`, pinning every environment's verified head, and
    /// returns those heads. Owners only.
    pub(crate) fn append_event(
        &mut self,
        view: &ProjectView,
        change: Change<'_>,
    ) -> Result<BTreeMap<String, crate::records::VersionRecord>> {
        self.require_owner(view, "change its members")?;
        let heads = self.verified_heads(view)?;
        let pins = heads
            .iter()
            .map(|(environment, record)| {
                let pin = Pin {
                    number: record.body.number,
                    digest: record.digest(),
                };
                (environment.clone(), pin)
            })
            .collect();
        if !self.publish_entry(view, change, pins)? {
            return Err(ClientError::MembershipRace {
                project: view.project.clone(),
            });
        }
        Ok(heads)
    }

    /// After this user created a version not from their file (rollback, re-encryption),
    /// moves a clean linked file along with it; a dirty one is left for `sync`, and a file
    /// that holds another environment (`envsync use`) is not this one's to move. A clean
    /// file that already holds the new content (a re-encryption, which changes readers and
    /// not values) is left as it is and only the base moves: rewriting it would cost two
    /// `fsync`s per environment and wake every tool that watches the file for nothing.
    pub(crate) fn adopt_if_clean(
        &mut self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
        content: &[u8],
    ) -> Result<()> {
        if !target.is_linked() {
            return Ok(());
        }
        let state = self.state.read(target)?;
        let local = self.read_local(target)?;
        match (state, local) {
            (Some(state), Some(local)) if state.file_sha256 == sha256_hex(&local) => {
                if local == content {
                    let (local_state, kept_target) = (self.state.clone(), target.clone());
                    let ledger = self.ledger.clone();
                    self.write_locally(record, ciphertext, move |record, ciphertext| {
                        let kept = ledger.kept_files(record);
                        let sha256 = &state.file_sha256;
                        local_state.save_base(&kept_target, record, ciphertext, sha256, &kept)
                    })
                } else {
                    self.write_local(target, content, record, ciphertext)
                }
            }
            (None, None) => self.write_local(target, content, record, ciphertext),
            _ => Ok(()),
        }
    }
}
