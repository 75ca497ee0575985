//! Re-encrypting heads so that access follows membership: after a member is accepted or
//! removed every environment's head whose readers changed becomes a new version, with the
//! same content, encrypted to the readers the membership log now names.
//!
//! A `members remove` killed after its removal entry was appended but before every head
//! was re-encrypted leaves heads the removed member can still decrypt. Every command that
//! reads such a head says so and names the command that finishes the job (`envsync
//! repair`, which any writer of the environment may run, or the owner's `members remove`
//! again); until then the removed member can read only what they could already read.

use std::collections::{BTreeMap, BTreeSet};

use zeroize::Zeroizing;

use super::publish::NewVersion;
use super::{ProjectView, Session};
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::membership::Member;
use crate::records::VersionRecord;
use crate::workspace::Target;

/// How many re-encrypted heads go to the remote in one request. Few enough that this
/// machine's copies of one request's versions are written (on the writer thread) while the
/// next ones are sealed and sent: all 20 of a 20-environment project in one request left
/// the writes for the end, and `members add` took 199 ms where one request each took 163
/// and five each 161 (BENCHMARKS.md, thirteenth pass). Over a network, each request saved
/// is a round trip.
pub(crate) const SENT_TOGETHER: usize = 5;

/// A head's re-encryption, signed and not sent yet: what [`Session::reencrypt_each`] sends
/// with the others, then records here.
struct SealedVersion {
    target: Target,
    record: VersionRecord,
    ciphertext: Vec<u8>,
    /// The head's content, the same in the new version (zeroed when dropped).
    content: Zeroizing<Vec<u8>>,
}

impl Session {
    /// Re-encrypts each environment's head to the current readers, as a new version with the
    /// same content, so access follows membership. `start` holds the heads the command
    /// verified moments before; after a removal they are the heads it pinned, and a version
    /// that slipped in after one of them and no longer verifies (the removed member's
    /// racing push) is voided by superseding back to it.
    pub(super) fn reencrypt_heads(
        &mut self,
        view: &ProjectView,
        change: &AccessChange,
        start: &StartingHeads,
    ) -> Result<()> {
        let environments = self.remote.environments(&view.project)?;
        let kept = self.with_writes_behind(|session| {
            session.reencrypt_each(view, change, start, &environments);
            Ok(())
        });
        // As a head that could not be re-encrypted, a copy that could not be kept is said,
        // and the command's own report (what to rotate) still follows.
        if let Err(error) = kept {
            self.notice(format!(
                "the new versions are on the remote, but this machine could not keep its \
                 copies of them ({error}); the next command that reads them keeps them"
            ));
        }
        Ok(())
    }

    /// [`Session::reencrypt_heads`] of `environments`, saying each one it could not do. The
    /// heads verified moments ago are sealed and sent [`SENT_TOGETHER`] at a time, in one
    /// request where the remote takes several (a server); a head whose number a push took
    /// meanwhile is then re-encrypted alone from the remote's head as it is now.
    fn reencrypt_each(
        &mut self,
        view: &ProjectView,
        change: &AccessChange,
        start: &StartingHeads,
        environments: &[String],
    ) {
        let message = change.message();
        let mut alone = Vec::new();
        for chunk in environments.chunks(SENT_TOGETHER) {
            let mut sealed = Vec::new();
            for environment in chunk {
                let target = self.any_target(EnvironmentRef::new(&view.project, environment));
                let known = start.heads.get(environment);
                let fallback = known.filter(|_| start.pinned);
                match self.seal_reencryption(view, &target, &message, known, fallback) {
                    Ok(Some(version)) => sealed.push(version),
                    Ok(None) => {}
                    Err(error) if error.kind() == crate::ErrorKind::Conflict => {
                        alone.push(target);
                    }
                    Err(error) => self.not_reencrypted(change, &target, &error),
                }
            }
            alone.extend(self.send_reencryptions(change, sealed));
        }
        for target in alone {
            self.reencrypt_alone(view, change, &message, &target, start);
        }
    }

    /// Sends `sealed` together, then alone each one the remote did not answer for (a server
    /// without the route, a failed request), and records here each one created. Returns the
    /// targets whose number a push took, to be re-encrypted again from their new head.
    fn send_reencryptions(
        &mut self,
        change: &AccessChange,
        sealed: Vec<SealedVersion>,
    ) -> Vec<Target> {
        let sent: Vec<_> = sealed
            .iter()
            .map(|version| (&version.record, version.ciphertext.as_slice()))
            .collect();
        let mut answered = self.remote.create_versions(&sent).into_iter();
        let mut raced = Vec::new();
        for version in sealed {
            let created = match answered.next() {
                Some(created) => Ok(created),
                None => self
                    .remote
                    .create_version(&version.record, &version.ciphertext),
            };
            match created {
                Ok(true) => self.keep_reencryption(version),
                Ok(false) => raced.push(version.target),
                Err(error) => self.not_reencrypted(change, &version.target, &error),
            }
        }
        raced
    }

    /// Re-encrypts `target` on its own, from the remote's head as it is now, as often as a
    /// racing push takes the number; says it if it could not.
    fn reencrypt_alone(
        &mut self,
        view: &ProjectView,
        change: &AccessChange,
        message: &str,
        target: &Target,
        start: &StartingHeads,
    ) {
        let fallback = start
            .heads
            .get(&target.environment)
            .filter(|_| start.pinned);
        let mut attempt = 1;
        loop {
            match self.reencrypt_one(view, target, message, None, fallback) {
                Err(error) if error.kind() == crate::ErrorKind::Conflict && attempt < 4 => {
                    attempt += 1;
                }
                // The last lost race is said too: a head left unre-encrypted must not
                // pass in silence.
                Err(error) => {
                    self.not_reencrypted(change, target, &error);
                    break;
                }
                Ok(()) => break,
            }
        }
    }

    /// Says that `target`'s head could not be re-encrypted, and the command that finishes
    /// the job: a head left unre-encrypted must not pass in silence.
    fn not_reencrypted(&mut self, change: &AccessChange, target: &Target, error: &ClientError) {
        let finish = change.finishing_command(&target.place);
        self.notice(format!("could not re-encrypt {target}: {error}; {finish}"));
    }

    /// [`Session::keep_sealed`], saying it when this machine could not: the version is on
    /// the remote all the same.
    fn keep_reencryption(&mut self, version: SealedVersion) {
        if let Err(error) = self.keep_sealed(&version) {
            let target = &version.target;
            self.notice(format!(
                "{target} was re-encrypted, but this machine could not record it ({error}); \
                 the next command that reads it does"
            ));
        }
    }

    /// Re-encrypts `target`'s head, `verified` when the caller has just verified it, else
    /// read and verified here; `fallback` is the head a removal pinned, for a head that no
    /// longer verifies.
    fn reencrypt_one(
        &mut self,
        view: &ProjectView,
        target: &Target,
        message: &str,
        verified: Option<&VersionRecord>,
        fallback: Option<&VersionRecord>,
    ) -> Result<()> {
        let Some(version) = self.seal_reencryption(view, target, message, verified, fallback)?
        else {
            return Ok(());
        };
        self.send_version(target, &version.record, &version.ciphertext)?;
        self.keep_sealed(&version)
    }

    /// Records here a re-encryption the remote created, and moves a clean linked file's
    /// base to it.
    fn keep_sealed(&mut self, version: &SealedVersion) -> Result<()> {
        let target = &version.target;
        self.keep_created(target, &version.record, &version.ciphertext)?;
        if target.is_linked() {
            self.adopt_if_clean(
                target,
                &version.record,
                &version.ciphertext,
                &version.content,
            )?;
        }
        Ok(())
    }

    /// The new version that re-encrypts `target`'s head to its current readers, signed and
    /// not sent yet; `None` when the head is already encrypted to them, or there is none.
    fn seal_reencryption(
        &mut self,
        view: &ProjectView,
        target: &Target,
        message: &str,
        verified: Option<&VersionRecord>,
        fallback: Option<&VersionRecord>,
    ) -> Result<Option<SealedVersion>> {
        let head = match verified {
            Some(record) => Ok(Some(record.clone())),
            None => self.verified_head(view, target),
        };
        let (record, voids_up_to) = match (head, fallback) {
            (Ok(Some(record)), _) if encrypted_to_readers(view, &target.environment, &record) => {
                return Ok(None);
            }
            (Ok(Some(record)), _) => (record, None),
            (Ok(None), _) => return Ok(None),
            (Err(error), None) => return Err(error),
            (Err(_), Some(pinned)) => {
                let head = self.remote.head(target)?;
                (pinned.clone(), head)
            }
        };
        let content = self.open_version_kept(view, target, &record)?;
        let (new_record, new_ciphertext) = self.seal_version(
            view,
            target,
            NewVersion {
                content: &content,
                message: message.to_owned(),
                base: Some(&record),
                base_content: Some(&content),
                voids_up_to,
                dismissed: Vec::new(),
            },
        )?;
        Ok(Some(SealedVersion {
            target: target.clone(),
            record: new_record,
            ciphertext: new_ciphertext,
            content,
        }))
    }

    /// Notes, to be said with the notices, that `record` (its verified head) is still
    /// encrypted to members the log removed, and which command finishes their removal.
    pub(super) fn note_removed_recipients(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) {
        let removed = removed_recipients(view, record);
        if removed.is_empty() {
            return;
        }
        // The fingerprint, not the name, in the command: it is unambiguous and shell-safe.
        let fingerprint = removed[0].key.fingerprint();
        let head = UnrevokedHead {
            project: target.place.project.clone(),
            environment: target.place.environment.clone(),
            version: record.body.number,
            removed: removed.iter().map(|member| member.label()).collect(),
            notice: format!(
                "{} (version {}) is still encrypted to {}, removed from the project: a \
                 removal stopped before re-encrypting it; run `envsync repair -p {}` (any \
                 writer of {}), or, as an owner, `envsync members remove {fingerprint} -p {}` \
                 again",
                target.place,
                record.body.number,
                names(&removed),
                view.project,
                target.place.environment,
                view.project,
            ),
        };
        self.unrevoked_heads.insert(target.place.clone(), head);
    }

    /// Re-encrypts, without the removed members, every head still encrypted to one of them
    /// that this user may push to. Returns the environments re-encrypted, and the others
    /// still encrypted to a removed member, with who can finish them.
    pub(super) fn finish_removals(
        &mut self,
        view: &ProjectView,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let own = self.own_key();
        let me = own
            .as_deref()
            .and_then(|key| view.roster.find(key))
            .cloned();
        let (mut done, mut left) = (Vec::new(), Vec::new());
        // Someone who is no member (any more) re-encrypts nothing, and reads no head.
        if !me.as_ref().is_some_and(Member::is_active) {
            return Ok((done, left));
        }
        let environments = self.remote.environments(&view.project)?;
        self.with_writes_behind(|session| {
            for environment in environments {
                session.finish_removal(view, me.as_ref(), environment, &mut done, &mut left)?;
            }
            Ok((done, left))
        })
    }

    /// [`Session::finish_removals`] of one environment: re-encrypted into `done`, or said
    /// in `left` when this user may not push to it.
    fn finish_removal(
        &mut self,
        view: &ProjectView,
        me: Option<&Member>,
        environment: String,
        done: &mut Vec<String>,
        left: &mut Vec<String>,
    ) -> Result<()> {
        let target = self.any_target(EnvironmentRef::new(&view.project, &environment));
        // A head that does not verify (a remote still behind what a teammate saw) is
        // another command's to report; repair must not fail on it.
        let Ok(Some(record)) = self.verified_head(view, &target) else {
            return Ok(());
        };
        let removed = removed_recipients(view, &record);
        if removed.is_empty() {
            return Ok(());
        }
        let place = &target.place;
        if !me.is_some_and(|me| me.may_push(&environment)) {
            left.push(format!(
                "{place} is still encrypted to {}: a writer of {environment} can re-encrypt it",
                names(&removed)
            ));
            return Ok(());
        }
        let message = format!("revoke access of {}", names(&removed));
        self.reencrypt_one(view, &target, &message, Some(&record), None)?;
        done.push(environment);
        Ok(())
    }
}

/// Whose access a re-encryption follows: it names the new versions' message, and the command
/// that finishes a re-encryption cut short, which differs (a removal is finished by any
/// writer's `repair`; a grant by the accept run again, which re-encrypts to the member).
pub(super) enum AccessChange {
    Grant { name: String, fingerprint: String },
    Revoke { name: String },
}

impl AccessChange {
    fn message(&self) -> String {
        match self {
            Self::Grant { name, .. } => format!("grant access to {name}"),
            Self::Revoke { name } => format!("revoke access of {name}"),
        }
    }

    /// What to run when `place`'s head could not be re-encrypted.
    fn finishing_command(&self, place: &EnvironmentRef) -> String {
        let project = &place.project;
        match self {
            Self::Grant { fingerprint, .. } => format!(
                "a member who can read it can finish with `envsync members accept {fingerprint} \
                 -p {project}`"
            ),
            Self::Revoke { name } => format!(
                "it is still encrypted to {name}: any writer of {} can finish with `envsync \
                 repair -p {project}`",
                place.environment
            ),
        }
    }
}

/// The heads a membership change verified just before it re-encrypts them, by
/// environment; `pinned` when a removal pinned them in its membership entry.
pub(super) struct StartingHeads {
    heads: BTreeMap<String, VersionRecord>,
    pinned: bool,
}

impl StartingHeads {
    /// Heads verified just before: a head that no longer verifies is an error to report.
    pub(super) fn verified(heads: BTreeMap<String, VersionRecord>) -> Self {
        Self {
            heads,
            pinned: false,
        }
    }

    /// Heads a removal pinned: what a version slipped in after one of them is voided back to.
    pub(super) fn pinned(heads: BTreeMap<String, VersionRecord>) -> Self {
        Self {
            heads,
            pinned: true,
        }
    }
}

/// A head still encrypted to members the log removed: a removal stopped before it
/// re-encrypted the head. `status --json` lists them; every command says so on stderr.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnrevokedHead {
    pub project: String,
    pub environment: String,
    pub version: u64,
    /// The removed members who can still read it, as `name (fingerprint)`.
    pub removed: Vec<String>,
    /// What to run, for the notice.
    #[serde(skip)]
    pub notice: String,
}

/// Whether `record` is already encrypted to exactly the members who may read `environment`
/// now. Then a new version would change nothing but its number: a member limited to other
/// environments joining or leaving leaves this head as it is. The record's signed list of
/// recipients is what the accept and interrupted-removal checks also go by.
fn encrypted_to_readers(view: &ProjectView, environment: &str, record: &VersionRecord) -> bool {
    let readers = view.roster.readers_of(environment);
    let readers: BTreeSet<&str> = readers.iter().map(|member| member.key.as_str()).collect();
    let recipients: BTreeSet<&str> = record.body.recipients.iter().map(String::as_str).collect();
    readers == recipients
}

/// The removed members among the recipients of `record`.
fn removed_recipients<'a>(view: &'a ProjectView, record: &VersionRecord) -> Vec<&'a Member> {
    record
        .body
        .recipients
        .iter()
        .filter_map(|key| view.roster.find(key))
        .filter(|member| !member.is_active())
        .collect()
}

/// `dave, erin`: the names of `members`, for messages.
fn names(members: &[&Member]) -> String {
    let names: Vec<&str> = members.iter().map(|member| member.name.as_str()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_short_grant_is_finished_by_accept_and_a_removal_by_repair() {
        let place = EnvironmentRef::new("app", "production");
        let grant = AccessChange::Grant {
            name: "dave".into(),
            fingerprint: "SHA256:abc".into(),
        };
        assert_eq!(grant.message(), "grant access to dave");
        assert_eq!(
            grant.finishing_command(&place),
            "a member who can read it can finish with `envsync members accept SHA256:abc -p app`"
        );
        let revoke = AccessChange::Revoke { name: "bob".into() };
        assert_eq!(revoke.message(), "revoke access of bob");
        assert_eq!(
            revoke.finishing_command(&place),
            "it is still encrypted to bob: any writer of production can finish with \
             `envsync repair -p app`"
        );
    }
}
