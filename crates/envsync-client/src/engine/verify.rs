//! The read path: everything read from a remote passes through here before it is believed.
//!
//! A version is believed when its signature verifies, its author could sign it at the
//! membership entry it names (which this log must hold), and it chains back to every point
//! this history is known to have reached: what this machine verified before (the ledger),
//! what the membership log pinned, and the workspace's own base. A remote that shows less,
//! or something else at a number already seen, is refused.

use envsync_core::hash::sha256_hex;
use envsync_crypto::CryptoError;
use zeroize::Zeroizing;

use super::{ProjectView, Session};
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::membership::SignerStanding;
use crate::records::{FORMAT, Pin, Seal, VersionRecord};
use crate::remote::{Ahead, HeadWith, ReadHead, ShownHead, ShownHeads};
use crate::state::EnvironmentState;
use crate::workspace::Target;

/// A point an environment's history is known to have reached, and who says so.
#[derive(Debug, Clone)]
pub(crate) struct Floor {
    pub pin: Pin,
    pub source: String,
    /// This machine's ledger, written only after the record it pins was verified in full.
    pub verified_here: bool,
    /// Of the ledger's floor: the earlier points its record was verified to chain to.
    pub reaches: Vec<Pin>,
}

/// Whether a record's signature still needs checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signature {
    Check,
    /// The record is the one this machine's ledger pins (same digest, which covers every
    /// signed byte), so its signature was checked when the ledger moved to it.
    CheckedBefore,
}

impl Session {
    /// The environment's head, verified and chained to every known floor, or `None` before
    /// its first version. Moves this machine's ledger forward.
    pub(crate) fn verified_head(
        &mut self,
        view: &ProjectView,
        target: &Target,
    ) -> Result<Option<VersionRecord>> {
        let state = self.state.read(target)?;
        let believed = self.verified_head_given(view, target, state.as_ref(), None)?;
        Ok(believed.map(|(record, _)| record))
    }

    /// [`Session::verified_head`] with the workspace's state of `target` as the caller read
    /// it, for a command that needs the state itself too (push, pull, sync): one read. With
    /// the record comes its digest, computed once. `ahead` is the read of the head with its
    /// record started before the view ([`Session::head_ahead`]), where it was.
    pub(crate) fn verified_head_given(
        &mut self,
        view: &ProjectView,
        target: &Target,
        state: Option<&EnvironmentState>,
        ahead: Option<Ahead<ReadHead>>,
    ) -> Result<Option<(VersionRecord, String)>> {
        let head = Ahead::answer_or(ahead, || self.remote.head_with(target, HeadWith::Record))?;
        self.believe_head(view, target, (head.number, head.shown.as_ref()), state)
    }

    /// [`Session::verified_head`] with its ciphertext, checked against the record, in one
    /// request where the remote can send both with the head (a server), else in the reads
    /// each takes alone: what reading the head's plaintext needs.
    /// `state` is the workspace's state of `target` as the caller read it; `ahead`, the read
    /// of the head started before the view ([`Session::head_ahead`]), where it was.
    pub(crate) fn verified_head_version(
        &mut self,
        view: &ProjectView,
        target: &Target,
        state: Option<&EnvironmentState>,
        ahead: Option<Ahead<ReadHead>>,
    ) -> Result<Option<(VersionRecord, Pin, Vec<u8>)>> {
        let head = Ahead::answer_or(ahead, || self.remote.head_with(target, HeadWith::Version))?;
        let shown = head.shown.as_ref();
        let Some((record, digest)) =
            self.believe_head(view, target, (head.number, shown), state)?
        else {
            return Ok(None);
        };
        let ciphertext = match head.shown.and_then(|shown| shown.ciphertext) {
            Some(ciphertext) => self.accept_ciphertext(target, &record, ciphertext)?,
            None => self.fetch_ciphertext(target, &record)?,
        };
        let number = record.body.number;
        Ok(Some((record, Pin { number, digest }, ciphertext)))
    }

    /// [`Session::verified_head`] from `shown`, one read of the project's heads (`status`),
    /// when it holds this environment; else the environment is read alone. The record is
    /// verified the same either way: only the transport differs. `state` is the workspace's
    /// state of `target` as the caller read it, one of the floors. With the record comes its
    /// pin: its digest is a hash over every signed byte, computed once.
    pub(crate) fn verified_shown_head(
        &mut self,
        view: &ProjectView,
        target: &Target,
        shown: Option<&ShownHeads>,
        state: Option<&EnvironmentState>,
    ) -> Result<Option<(VersionRecord, Pin)>> {
        let read;
        let head = match shown.and_then(|heads| heads.get(&target.environment)) {
            Some(head) => (Some(head.number), Some(head)),
            None => {
                read = self.remote.head_with(target, HeadWith::Record)?;
                (read.number, read.shown.as_ref())
            }
        };
        let believed = self.believe_head(view, target, head, state)?;
        Ok(believed.map(|(record, digest)| {
            let number = record.body.number;
            (record, Pin { number, digest })
        }))
    }

    /// The read of `target`'s head `with` its record or version started now, to run while the
    /// caller reads the project's view, where the remote reads in parallel.
    pub(crate) fn head_ahead(&self, target: &Target, with: HeadWith) -> Option<Ahead<ReadHead>> {
        let place = target.place.clone();
        Ahead::start(self.remote.as_ref(), move |remote| {
            remote.head_with(&place, with)
        })
    }

    /// Verifies the head the remote showed, `head`, reading its record unless `shown` holds
    /// it, and chains it to every known floor (`state`, the workspace's, among them). Returns
    /// the record with its digest.
    fn believe_head(
        &mut self,
        view: &ProjectView,
        target: &Target,
        (head, shown): (Option<u64>, Option<&ShownHead>),
        state: Option<&EnvironmentState>,
    ) -> Result<Option<(VersionRecord, String)>> {
        let floors = self.floors(view, target, state)?;
        let highest = floors.iter().max_by_key(|floor| floor.pin.number);
        let Some(head) = head else {
            return match highest {
                Some(floor) => Err(went_back(target, None, floor)),
                None => Ok(None),
            };
        };
        if let Some(floor) = highest
            && head < floor.pin.number
        {
            return Err(went_back(target, Some(head), floor));
        }
        let record = match shown {
            Some(shown) => shown.record(target)?,
            None => self.remote.version(target, head)?,
        };
        // A different record at a number already seen is the first thing to say, before
        // whatever is wrong with the record itself.
        let digest = record.digest();
        if let Some(floor) = floors.iter().find(|floor| floor.pin.number == head)
            && digest != floor.pin.digest
        {
            return Err(rewritten(target, floor));
        }
        let last_good = highest.map(|floor| floor.pin.number);
        let signature = if floors.iter().any(|floor| {
            floor.verified_here && floor.pin.number == head && floor.pin.digest == digest
        }) {
            Signature::CheckedBefore
        } else {
            Signature::Check
        };
        self.verify_fetched(view, target, (head, signature), &record, last_good)?;
        let read = self.chain_to_floors(view, target, (&record, &digest), &floors)?;
        // The ledger pins this very record already (every `status` of an unchanged head):
        // there is nothing to move, unless a floor had to be read, which it now notes.
        if signature == Signature::Check || read {
            let reaches: Vec<Pin> = floors
                .iter()
                .filter(|floor| floor.pin.number < head)
                .map(|floor| floor.pin.clone())
                .collect();
            self.ledger
                .advance_environment(&record, &digest, &reaches)?;
        }
        self.note_removed_recipients(view, target, &record);
        Ok(Some((record, digest)))
    }

    /// Every point this environment's history is known to have reached; `state` is the
    /// workspace's state of `target`, read by the caller.
    fn floors(
        &self,
        view: &ProjectView,
        target: &Target,
        state: Option<&EnvironmentState>,
    ) -> Result<Vec<Floor>> {
        let mut floors = Vec::new();
        if let Some(seen) = self.ledger.environment(target)? {
            floors.push(Floor {
                source: format!("this machine verified on {}", seen.seen_at),
                pin: seen.pin(),
                verified_here: true,
                reaches: seen.reaches,
            });
        }
        if let Some(pin) = view.roster.pinned_heads.get(&target.environment) {
            floors.push(Floor {
                pin: pin.clone(),
                source: "the project's membership log pinned".into(),
                verified_here: false,
                reaches: Vec::new(),
            });
        }
        if let Some(state) = state {
            floors.push(Floor {
                pin: Pin {
                    number: state.base_version,
                    digest: state.base_digest.clone(),
                },
                source: format!("{} is based on", target.file_label),
                verified_here: false,
                reaches: Vec::new(),
            });
        }
        Ok(floors)
    }

    /// Chains `record` to every floor at or below it; floors above it are what a supersede
    /// onto `record` voids.
    pub(crate) fn chain_to_floors_below(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<()> {
        let state = self.state.read(target)?;
        let floors: Vec<Floor> = self
            .floors(view, target, state.as_ref())?
            .into_iter()
            .filter(|floor| floor.pin.number <= record.body.number)
            .collect();
        self.chain_to_floors(view, target, (record, &record.digest()), &floors)
            .map(drop)
    }

    /// Walks from `head` (with its digest) back along its bases to the highest floor,
    /// verifying every record and link; every other floor must still hold the record it
    /// pinned. A floor at the head itself (every run of an unchanged environment) costs no
    /// copy and no second hash of the record, and a floor the record names as its parent no
    /// read: the signed link shows more than the parent's stored copy would, that the
    /// history runs through it. Nor does a floor the ledger notes its record reaches
    /// already. Any other floor is read and compared: whether one was is the answer. When
    /// the head's parent is the version this machine verified last, the walk takes that
    /// record from the ledger ([`Session::kept_parent`]), not the remote.
    fn chain_to_floors(
        &mut self,
        view: &ProjectView,
        target: &Target,
        (head, head_digest): (&VersionRecord, &str),
        floors: &[Floor],
    ) -> Result<bool> {
        let Some(highest) = floors.iter().max_by_key(|floor| floor.pin.number) else {
            return Ok(false);
        };
        let walked = if head.body.number > highest.pin.number {
            Some(match self.kept_parent(view, target, head, floors)? {
                Some(kept) => kept,
                None => {
                    let record = self.walk_back(view, target, head, highest.pin.number)?;
                    let digest = record.digest();
                    (record, digest)
                }
            })
        } else {
            None
        };
        let (reached, reached_digest) = match &walked {
            Some((record, digest)) => (record, digest.as_str()),
            None => (head, head_digest),
        };
        let reached_pin = Pin {
            number: reached.body.number,
            digest: reached_digest.to_owned(),
        };
        let known_reach = floors
            .iter()
            .filter(|floor| floor.verified_here && floor.pin == reached_pin)
            .flat_map(|floor| &floor.reaches);
        let known_reach: Vec<&Pin> = known_reach.collect();
        let mut read = false;
        for floor in floors {
            let holds = if reached.body.number == floor.pin.number {
                reached_digest == floor.pin.digest
            } else if names_as_parent(reached, &floor.pin) {
                // The verified record signs its parent's digest, and it is the floor's: the
                // history reaches the floor through that link, with no read. This is the
                // floor a membership change leaves below every head it re-encrypted.
                true
            } else if known_reach.contains(&&floor.pin) {
                // This machine verified that very record chains to this floor before.
                true
            } else {
                read = true;
                self.remote.version(target, floor.pin.number)?.digest() == floor.pin.digest
            };
            if !holds {
                return Err(rewritten(target, floor));
            }
        }
        Ok(read)
    }

    /// The ledger's copy of the version `head` names as its parent, when that is the version
    /// this machine verified last (a floor of `floors`) and the copy is still the one it
    /// verified (same digest): what walking back one step would fetch from the remote. It
    /// passes the same checks as a fetched one against today's membership log (its
    /// signature, covered by the digest, was checked when the ledger took it), and it
    /// carries the link to its own parent, so a floor below it (a membership log's pin, a
    /// few versions back) is checked without a read, as the walk would check it. With it
    /// comes its digest, the floor's.
    fn kept_parent(
        &mut self,
        view: &ProjectView,
        target: &Target,
        head: &VersionRecord,
        floors: &[Floor],
    ) -> Result<Option<(VersionRecord, String)>> {
        let Some(floor) = floors
            .iter()
            .find(|floor| floor.verified_here && names_as_parent(head, &floor.pin))
        else {
            return Ok(None);
        };
        let number = floor.pin.number;
        let kept = self.ledger.kept_version(target, number).ok().flatten();
        let Some(kept) = kept.filter(|kept| kept.digest() == floor.pin.digest) else {
            return Ok(None);
        };
        self.verify_fetched(
            view,
            target,
            (number, Signature::CheckedBefore),
            &kept,
            None,
        )?;
        check_link(target, &kept, head)?;
        Ok(Some((kept, floor.pin.digest.clone())))
    }

    /// Follows `from`'s bases down to the first record numbered `to` or less, verifying
    /// each record and link on the way, and returns it. Versions an owner superseded are
    /// stepped over, never read.
    pub(crate) fn walk_back(
        &mut self,
        view: &ProjectView,
        target: &Target,
        from: &VersionRecord,
        to: u64,
    ) -> Result<VersionRecord> {
        let mut current = from.clone();
        while current.body.number > to {
            let Some(base) = current.body.base else {
                return Ok(current);
            };
            let parent = self.fetch_verified(view, target, base)?;
            check_link(target, &parent, &current)?;
            current = parent;
        }
        Ok(current)
    }

    /// Fetches version `number` and checks everything it says about itself against the
    /// membership log: place, format, signature, and the author's standing at the time.
    pub(crate) fn fetch_verified(
        &mut self,
        view: &ProjectView,
        target: &Target,
        number: u64,
    ) -> Result<VersionRecord> {
        let record = self.remote.version(target, number)?;
        self.verify_fetched(view, target, (number, Signature::Check), &record, None)?;
        Ok(record)
    }

    /// Verifies a fetched record; `last_good`, the newest version known good here, lets a
    /// refusal name the exact supersede that gets past it.
    fn verify_fetched(
        &mut self,
        view: &ProjectView,
        target: &Target,
        (number, signature): (u64, Signature),
        record: &VersionRecord,
        last_good: Option<u64>,
    ) -> Result<()> {
        match verify_record(view, target, (number, signature), record, last_good)? {
            SignerStanding::Current => Ok(()),
            SignerStanding::EndedAt(pin) => self.inside_pinned_history(target, record, &pin),
        }
    }

    /// A record signed under a standing that has since ended counts only if it lies inside
    /// the history pinned when the standing ended: `record` must chain up to `pin`.
    fn inside_pinned_history(
        &mut self,
        target: &Target,
        record: &VersionRecord,
        pin: &Pin,
    ) -> Result<()> {
        let outside = || {
            ClientError::Integrity(format!(
                "version {} of {target} is signed by a key whose write access ended at version {}, and it is not in the history pinned then (forged after the fact)",
                record.body.number, pin.number
            ))
        };
        let mut current = self.remote.version(target, pin.number)?;
        if current.digest() != pin.digest {
            return Err(outside());
        }
        // The pinned digest vouches for the records below it: links, not signatures.
        while current.body.number > record.body.number {
            let Some(base) = current.body.base else {
                return Err(outside());
            };
            let parent = self.remote.version(target, base)?;
            if current.body.parent_digest.as_deref() != Some(parent.digest().as_str()) {
                return Err(outside());
            }
            current = parent;
        }
        if current.body.number != record.body.number || current.digest() != record.digest() {
            return Err(outside());
        }
        Ok(())
    }

    pub(crate) fn fetch_ciphertext(
        &self,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<Vec<u8>> {
        let ciphertext = self
            .remote
            .ciphertext(target, &record.body.ciphertext_sha256)?;
        self.accept_ciphertext(target, record, ciphertext)
    }

    /// `ciphertext`, as a remote sent it for a verified `record`, if it is the one the record
    /// names (its SHA-256), kept in the ledger.
    fn accept_ciphertext(
        &self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let body = &record.body;
        if sha256_hex(&ciphertext) != body.ciphertext_sha256 {
            return Err(ClientError::CorruptCiphertext {
                place: target.place.clone(),
                version: body.number,
            });
        }
        self.ledger.keep_ciphertext(record, &ciphertext)?;
        Ok(ciphertext)
    }

    /// Decrypts a version for this user, explaining what to do when they cannot.
    pub(crate) fn decrypt(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let number = record.body.number;
        let result = self.identity()?.decrypt(ciphertext);
        match result {
            Ok(plaintext) => Ok(plaintext),
            Err(CryptoError::NotARecipient) => Err(self.not_a_recipient(view, target, record)?),
            Err(_) => Err(ClientError::Integrity(format!(
                "version {number} of {target} does not decrypt: the ciphertext is corrupt"
            ))),
        }
    }

    /// Why this member cannot read `record`, and who can help: an owner when the role
    /// does not cover the environment, else the members who were its recipients.
    fn not_a_recipient(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<ClientError> {
        let own = self.identity()?.member_key().as_str().to_owned();
        let Some(member) = view.roster.find(&own).filter(|member| member.is_active()) else {
            return self.not_a_member(view);
        };
        if !member.may_read(&target.environment) {
            return Ok(ClientError::RoleDoesNotCover {
                project: view.project.clone(),
                role: member.role,
                environment: target.environment.clone(),
                owners: owner_names(view),
            });
        }
        let readers: Vec<String> = record
            .body
            .recipients
            .iter()
            .filter_map(|key| view.roster.find(key))
            .filter(|recipient| recipient.may_push(&target.environment))
            .map(|recipient| recipient.name.clone())
            .collect();
        Ok(ClientError::NotARecipient {
            place: target.place.clone(),
            version: record.body.number,
            readers,
            fingerprint: member.key.fingerprint(),
        })
    }

    /// The error for a user who is not an active member: removed by an owner, or not a
    /// member yet. A read: it files nothing (see [`Session::ask_for_access`]).
    pub(crate) fn not_a_member(&mut self, view: &ProjectView) -> Result<ClientError> {
        if let Some(removed) = self.removal_of_self(view) {
            return Ok(removed);
        }
        let identity = self.identity()?;
        Ok(ClientError::NotAMember {
            project: view.project.clone(),
            name: identity.name().to_owned(),
            fingerprint: identity.member_key().fingerprint(),
            request_filed: false,
        })
    }

    /// The error for a user whose key an owner removed, naming who and when.
    pub(crate) fn removal_of_self(&mut self, view: &ProjectView) -> Option<ClientError> {
        let own = self.own_key()?;
        let member = view.roster.find(&own)?;
        let (actor, at) = member.removed_by.as_ref()?;
        let by = view
            .roster
            .find(actor)
            .map_or_else(|| actor.clone(), |owner| owner.label());
        Some(ClientError::Removed {
            project: view.project.clone(),
            by,
            at: at.clone(),
        })
    }
}

/// The names of the project's active owners, for "ask an owner" messages.
pub(crate) fn owner_names(view: &ProjectView) -> String {
    view.roster
        .active()
        .filter(|member| member.role.can_manage_members())
        .map(|member| member.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `record` names the version `pin` pins as its parent (its base), by digest.
fn names_as_parent(record: &VersionRecord, pin: &Pin) -> bool {
    record.body.base == Some(pin.number)
        && record.body.parent_digest.as_deref() == Some(pin.digest.as_str())
}

/// `parent` must be the record `child` names as its base, and the membership entry a
/// history names never goes back.
fn check_link(target: &Target, parent: &VersionRecord, child: &VersionRecord) -> Result<()> {
    if child.body.parent_digest.as_deref() != Some(parent.digest().as_str()) {
        return Err(ClientError::Integrity(format!(
            "version {} of {target} does not follow version {}: the history was rewritten or reordered",
            child.body.number, parent.body.number
        )));
    }
    if child.body.membership.number < parent.body.membership.number {
        return Err(ClientError::Integrity(format!(
            "version {} of {target} names an older membership entry than version {} before it: it was signed under a standing that had already changed",
            child.body.number, parent.body.number
        )));
    }
    Ok(())
}

fn verify_record(
    view: &ProjectView,
    target: &Target,
    (number, signature): (u64, Signature),
    record: &VersionRecord,
    last_good: Option<u64>,
) -> Result<SignerStanding> {
    let body = &record.body;
    let label = format!("version {number} of {target}");
    let hint = supersede_hint(last_good);
    check_place(target, number, &label, body, &hint)?;
    if signature == Signature::Check {
        record.verified_signer().map_err(|_| {
            ClientError::Integrity(format!(
                "{label}: the signature does not verify (forged or tampered){hint}"
            ))
        })?;
    }
    check_membership_pin(view, &label, &body.membership)?;
    let Some(author) = view.roster.find(&body.author) else {
        return Err(ClientError::Integrity(format!(
            "{label} is signed by a key that is not a member of project `{}`{hint}",
            target.project
        )));
    };
    let standing = author
        .standing_for(&target.environment, number, body.membership.number)
        .map_err(|reason| {
            ClientError::Integrity(format!(
                "{label} is signed by {}, who {reason}{hint}",
                author.label()
            ))
        })?;
    if body.supersedes() && !author.owner_at(body.membership.number) {
        return Err(ClientError::Integrity(format!(
            "{label} voids earlier versions but {} was not an owner then",
            author.label()
        )));
    }
    if standing == SignerStanding::Current && !view.trust.contains(&body.author) {
        return Err(ClientError::Access(format!(
            "{label} is signed by {}, whose key you have not accepted yet: if you expect them, run `envsync members accept {}`",
            author.label(),
            author.key.fingerprint()
        )));
    }
    Ok(standing)
}

/// Where a record says it belongs, its format and its base must fit where it was found.
fn check_place(
    target: &Target,
    number: u64,
    label: &str,
    body: &crate::records::VersionBody,
    hint: &str,
) -> Result<()> {
    if body.project != target.project
        || body.environment != target.environment
        || body.number != number
    {
        return Err(ClientError::Integrity(format!(
            "{label} is misplaced: it claims to be version {} of {}{hint}",
            body.number,
            EnvironmentRef::from(body)
        )));
    }
    if body.format != FORMAT {
        return Err(ClientError::Integrity(format!(
            "{label} has format {}; this envsync reads format {FORMAT}",
            body.format
        )));
    }
    if body.base.is_none() != body.parent_digest.is_none()
        || body.base.is_some_and(|base| base >= number)
    {
        return Err(ClientError::Integrity(format!(
            "{label} names an impossible base: the history was tampered with{hint}"
        )));
    }
    Ok(())
}

/// The membership entry a version names must be in this log, unchanged: a shorter log
/// lost entries (a removal, say), a different one was rewritten.
fn check_membership_pin(view: &ProjectView, label: &str, pin: &Pin) -> Result<()> {
    if view.roster.holds(pin) {
        return Ok(());
    }
    let length = view.roster.next_number - 1;
    Err(ClientError::Integrity(if pin.number > length {
        format!(
            "{label} was made under membership entry {}, but the remote's membership log of project `{}` has only {length} entries: entries were removed from it. If the remote was restored from a backup, a member whose machine saw the newer entries can run `envsync repair`",
            pin.number, view.project
        )
    } else {
        format!(
            "{label} was made under a membership entry {} that differs from the remote's: the membership log was rewritten",
            pin.number
        )
    }))
}

/// How an owner gets past a version every reader refuses, naming the newest version known
/// good here when there is one.
fn supersede_hint(last_good: Option<u64>) -> String {
    let hint = ". An owner can void it with `envsync rollback N --supersede`, N being the newest version that verifies";
    match last_good {
        Some(number) => format!(
            "{hint} (the newest known good here is version {number}: `envsync rollback {number} --supersede`)"
        ),
        None => hint.to_owned(),
    }
}

/// The remote shows less than a floor: versions were deleted or hidden.
fn went_back(target: &Target, head: Option<u64>, floor: &Floor) -> ClientError {
    ClientError::WentBack {
        place: target.place.clone(),
        shows: head,
        floor: floor.pin.number,
        vouched_by: floor.source.clone(),
    }
}

fn rewritten(target: &Target, floor: &Floor) -> ClientError {
    ClientError::Rewritten {
        place: target.place.clone(),
        version: floor.pin.number,
        vouched_by: floor.source.clone(),
    }
}
