//! The project's membership log, folded into the current roster and each member's history.
//!
//! The log is append-only and hash-chained like the version history. Entry 1 is its author
//! adding themself as owner; every later entry must be signed by someone who is an owner at
//! that point. A remote can therefore drop the tail of the log, but not forge or reorder it;
//! what it drops is caught by this machine's ledger and by the entry every version names.
//!
//! Every entry about a member ends their previous standing and pins each environment's head
//! (number and digest) at that moment. A version is judged by the standing its author had at
//! the entry it names: a removed member's signature counts only inside the histories their
//! removal pinned, and a demoted writer's old versions stay valid.

use std::collections::BTreeMap;

use envsync_core::role::Role;
use envsync_crypto::MemberKey;
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};
use crate::records::{MembershipAction, MembershipBody, MembershipEvent, Pin, Seal};

/// One stretch of a member's standing, from the entry that granted it to the one that ended
/// it (a removal, or a change of role or environments).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Standing {
    pub from: u64,
    pub role: Role,
    pub environments: Option<Vec<String>>,
    /// The entry that ended this standing and the heads it pinned.
    pub until: Option<(u64, BTreeMap<String, Pin>)>,
}

impl Standing {
    fn covers(&self, environment: &str) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|environments| environments.iter().any(|name| name == environment))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    #[serde(with = "key_text")]
    pub key: MemberKey,
    pub name: String,
    pub role: Role,
    pub environments: Option<Vec<String>>,
    /// Set once removed: the removal entry's number.
    pub removed_in: Option<u64>,
    /// Who removed them (their key) and when, for the removed member's own messages.
    pub removed_by: Option<(String, String)>,
    pub history: Vec<Standing>,
}

/// What a version's signer was allowed at the entry the version names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerStanding {
    /// A member whose standing has not ended: the version stands on its own.
    Current,
    /// A standing that has ended: the version counts only if it lies inside the history
    /// ending at this pinned head.
    EndedAt(Pin),
}

impl Member {
    /// `name (fingerprint)`, as messages that ask the user to check a key name it.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.key.fingerprint())
    }

    pub fn is_active(&self) -> bool {
        self.removed_in.is_none()
    }

    pub fn may_read(&self, environment: &str) -> bool {
        self.is_active()
            && self
                .environments
                .as_ref()
                .is_none_or(|environments| environments.iter().any(|name| name == environment))
    }

    pub fn may_push(&self, environment: &str) -> bool {
        self.may_read(environment) && self.role.can_push()
    }

    /// Whether this member was an owner at membership entry `entry`.
    pub fn owner_at(&self, entry: u64) -> bool {
        self.standing_at(entry)
            .is_some_and(|standing| standing.role.can_manage_members())
    }

    fn standing_at(&self, entry: u64) -> Option<&Standing> {
        self.history.iter().find(|standing| {
            standing.from <= entry && standing.until.as_ref().is_none_or(|(end, _)| entry < *end)
        })
    }

    /// Whether this member could sign version `number` of `environment` at membership entry
    /// `entry`, and if their standing then has since ended, where its history was pinned.
    pub fn standing_for(
        &self,
        environment: &str,
        number: u64,
        entry: u64,
    ) -> std::result::Result<SignerStanding, String> {
        let Some(standing) = self.standing_at(entry) else {
            return Err(format!("was not a member at membership entry {entry}"));
        };
        if !standing.role.can_push() || !standing.covers(environment) {
            return Err(format!(
                "was a {} without write access to `{environment}` at membership entry {entry}",
                standing.role
            ));
        }
        match &standing.until {
            None => Ok(SignerStanding::Current),
            Some((end, heads)) => match heads.get(environment) {
                Some(pin) if number <= pin.number => Ok(SignerStanding::EndedAt(pin.clone())),
                _ => Err(format!(
                    "lost write access to `{environment}` at membership entry {end}, before version {number}"
                )),
            },
        }
    }
}

impl Member {
    /// Whether this member could read `environment` at membership entry `entry` and vouch
    /// that version `number` was published: a publication record is judged as a version
    /// is, by the standing at the entry it names, and a standing that has since ended only
    /// vouches for versions inside the history pinned when it ended.
    pub fn reader_standing(
        &self,
        environment: &str,
        number: u64,
        entry: u64,
    ) -> Option<SignerStanding> {
        let standing = self.standing_at(entry)?;
        if !standing.covers(environment) {
            return None;
        }
        match &standing.until {
            None => Some(SignerStanding::Current),
            Some((_, heads)) => heads
                .get(environment)
                .filter(|pin| number <= pin.number)
                .map(|pin| SignerStanding::EndedAt(pin.clone())),
        }
    }
}

/// The log folded. It is also this machine's snapshot of the log up to the entry its ledger
/// pins (see [`fold_continuing`]), so it serialises.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Roster {
    pub members: Vec<Member>,
    pub next_number: u64,
    pub last_digest: Option<String>,
    /// The digest of every entry, oldest first: entry `n` is `digests[n - 1]`.
    pub digests: Vec<String>,
    /// Per environment, the newest head any entry pinned: no honest remote shows less.
    pub pinned_heads: BTreeMap<String, Pin>,
}

impl Roster {
    pub fn find(&self, key: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|member| member.key.as_str() == key)
    }

    pub fn active(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|member| member.is_active())
    }

    pub fn readers_of(&self, environment: &str) -> Vec<&Member> {
        self.members
            .iter()
            .filter(|member| member.may_read(environment))
            .collect()
    }

    /// The newest entry, as versions name it.
    pub fn tip(&self) -> Option<Pin> {
        self.last_digest.as_ref().map(|digest| Pin {
            number: self.next_number - 1,
            digest: digest.clone(),
        })
    }

    /// Whether this log holds `pin` exactly: an entry of that number with that digest.
    pub fn holds(&self, pin: &Pin) -> bool {
        pin.number >= 1
            && self
                .digests
                .get(pin.number as usize - 1)
                .is_some_and(|digest| *digest == pin.digest)
    }

    /// Finds an active member by name, fingerprint or key; ambiguity is an error.
    pub fn lookup(&self, who: &str) -> Result<Option<&Member>> {
        let matches: Vec<_> = self
            .active()
            .filter(|member| {
                member.name == who || member.key.fingerprint() == who || member.key.as_str() == who
            })
            .collect();
        match matches.as_slice() {
            [] => Ok(None),
            [member] => Ok(Some(member)),
            _ => Err(ClientError::Input(format!(
                "`{who}` matches several members ({}); name one by its fingerprint",
                matches
                    .iter()
                    .map(|member| member.key.fingerprint())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// Verifies the whole log and folds it into the roster.
pub fn fold(project: &str, events: &[MembershipEvent]) -> Result<Roster> {
    fold_after(project, events, None)
}

/// Folds `tail`, the entries after `snapshot`'s newest, onto `snapshot`: the log as this
/// machine folded it up to the entry its ledger pins, which the remote still holds unchanged
/// (the caller checks that entry's digest; it names its parent's, so the entries before it
/// are the ones folded). Reading and folding the whole log on every command made each one
/// grow with the log; now only what is new is read and verified, in full.
pub fn fold_continuing(
    project: &str,
    snapshot: Roster,
    tail: &[MembershipEvent],
) -> Result<Roster> {
    fold_onto(project, snapshot, tail, 0)
}

/// Like [`fold`], but the entries up to `verified` (an entry this machine verified before,
/// from its ledger) are not signature-checked again when the log still holds that entry
/// unchanged: its digest covers its parent's, so the same digest means the same entries
/// before it, byte for byte. Re-checking every signature on every run made the cost of each
/// command grow with the log (77 ms at 1,000 entries). Every other rule (the chain, the
/// numbering, owners signing) is still checked on every entry.
pub fn fold_after(
    project: &str,
    events: &[MembershipEvent],
    verified: Option<&Pin>,
) -> Result<Roster> {
    let checked_before = verified
        .filter(|pin| {
            pin.number >= 1
                && events
                    .get(pin.number as usize - 1)
                    .is_some_and(|event| event.digest() == pin.digest)
        })
        .map_or(0, |pin| pin.number);
    let empty = Roster {
        next_number: 1,
        ..Roster::default()
    };
    fold_onto(project, empty, events, checked_before)
}

/// Checks and applies `events` after `roster`'s newest entry; the signatures of entries up to
/// `checked_before` are not checked again (see [`fold_after`]).
fn fold_onto(
    project: &str,
    mut roster: Roster,
    events: &[MembershipEvent],
    checked_before: u64,
) -> Result<Roster> {
    for event in events {
        let corrupt = |reason: String| {
            ClientError::Integrity(format!(
                "membership log of project `{project}` is invalid at entry {}: {reason}",
                event.body.number
            ))
        };
        let body = &event.body;
        if body.project != project {
            return Err(corrupt(format!("it belongs to project `{}`", body.project)));
        }
        if body.number != roster.next_number || body.parent_digest != roster.last_digest {
            return Err(corrupt("entries are missing, reordered or replaced".into()));
        }
        if body.format != crate::records::FORMAT {
            return Err(corrupt(format!(
                "format {} (this envsync reads format {})",
                body.format,
                crate::records::FORMAT
            )));
        }
        if body.number > checked_before {
            event
                .verified_signer()
                .map_err(|error| corrupt(error.to_string()))?;
        }
        let actor_is_owner = roster
            .find(&body.actor)
            .is_some_and(|actor| actor.is_active() && actor.role.can_manage_members());
        let genesis = body.number == 1
            && body.action == MembershipAction::Add
            && body.actor == body.member
            && body.role == Role::Owner;
        if !(genesis || actor_is_owner) {
            return Err(corrupt("signed by someone who is not an owner".into()));
        }
        let key = match roster.find(&body.member) {
            // Parsed and checked at its first entry; parsing decompresses a curve point.
            Some(known) => known.key.clone(),
            None => body
                .member
                .parse()
                .map_err(|error: envsync_crypto::CryptoError| corrupt(error.to_string()))?,
        };
        apply(&mut roster, body, key);
        let digest = event.digest();
        roster.digests.push(digest.clone());
        roster.last_digest = Some(digest);
        roster.next_number += 1;
    }
    Ok(roster)
}

fn apply(roster: &mut Roster, body: &MembershipBody, key: MemberKey) {
    for (environment, pin) in &body.heads {
        let newer = roster
            .pinned_heads
            .get(environment)
            .is_none_or(|known| known.number <= pin.number);
        if newer {
            roster.pinned_heads.insert(environment.clone(), pin.clone());
        }
    }
    let existing = roster.members.iter_mut().find(|member| member.key == key);
    let member = match existing {
        Some(member) => member,
        None if body.action == MembershipAction::Remove => return,
        None => {
            roster.members.push(Member {
                key,
                name: body.name.clone(),
                role: body.role,
                environments: body.environments.clone(),
                removed_in: None,
                removed_by: None,
                history: Vec::new(),
            });
            roster.members.last_mut().expect("just pushed")
        }
    };
    if let Some(open) = member
        .history
        .iter_mut()
        .find(|standing| standing.until.is_none())
    {
        open.until = Some((body.number, body.heads.clone()));
    }
    match body.action {
        MembershipAction::Add => {
            member.name = body.name.clone();
            member.role = body.role;
            member.environments = body.environments.clone();
            member.removed_in = None;
            member.removed_by = None;
            member.history.push(Standing {
                from: body.number,
                role: body.role,
                environments: body.environments.clone(),
                until: None,
            });
        }
        MembershipAction::Remove => {
            member.removed_in = Some(body.number);
            member.removed_by = Some((body.actor.clone(), body.created_at.clone()));
        }
    }
}

/// A member key as its text in the snapshot; read back through the same parser as an entry's.
mod key_text {
    use envsync_crypto::MemberKey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &MemberKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(key.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<MemberKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
