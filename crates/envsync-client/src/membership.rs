//! The project's membership log, folded into the current roster.
//!
//! The log is append-only and hash-chained like the version history. Entry 1 is its author
//! adding themself as owner; every later entry must be signed by someone who is an owner at
//! that point. A remote can therefore drop the tail of the log, but not forge or reorder it.

use std::collections::BTreeMap;

use envsync_core::role::Role;
use envsync_crypto::MemberKey;

use crate::error::{ClientError, Result};
use crate::records::{MembershipAction, MembershipEvent};

#[derive(Debug, Clone)]
pub struct Member {
    pub key: MemberKey,
    pub name: String,
    pub role: Role,
    pub environments: Option<Vec<String>>,
    /// Set once removed: each environment's head at removal.
    pub removed_at: Option<BTreeMap<String, u64>>,
}

impl Member {
    /// `name (fingerprint)`, as messages that ask the user to check a key name it.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.key.fingerprint())
    }

    pub fn is_active(&self) -> bool {
        self.removed_at.is_none()
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

    /// Whether a version this member signed at `number` is acceptable: written while they
    /// were a member with write access.
    pub fn could_sign(&self, environment: &str, number: u64) -> bool {
        let allowed_environment = self
            .environments
            .as_ref()
            .is_none_or(|environments| environments.iter().any(|name| name == environment));
        let in_time = match &self.removed_at {
            None => true,
            Some(heads) => heads.get(environment).is_some_and(|&head| number <= head),
        };
        self.role.can_push() && allowed_environment && in_time
    }
}

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub members: Vec<Member>,
    pub next_number: u64,
    pub last_digest: Option<String>,
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
                "`{who}` matches several members; use a fingerprint from `envsync members list`"
            ))),
        }
    }
}

pub fn fold(project: &str, events: &[MembershipEvent]) -> Result<Roster> {
    let mut roster = Roster {
        next_number: 1,
        ..Roster::default()
    };
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
        event
            .verify_signature()
            .map_err(|error| corrupt(error.to_string()))?;
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
        let key: MemberKey = body
            .member
            .parse()
            .map_err(|error: envsync_crypto::CryptoError| corrupt(error.to_string()))?;
        apply(&mut roster, body, key);
        roster.last_digest = Some(event.digest());
        roster.next_number += 1;
    }
    Ok(roster)
}

fn apply(roster: &mut Roster, body: &crate::records::MembershipBody, key: MemberKey) {
    let existing = roster.members.iter_mut().find(|member| member.key == key);
    match (body.action, existing) {
        (MembershipAction::Add, Some(member)) => {
            member.name = body.name.clone();
            member.role = body.role;
            member.environments = body.environments.clone();
            member.removed_at = None;
        }
        (MembershipAction::Add, None) => roster.members.push(Member {
            key,
            name: body.name.clone(),
            role: body.role,
            environments: body.environments.clone(),
            removed_at: None,
        }),
        (MembershipAction::Remove, Some(member)) => member.removed_at = Some(body.heads.clone()),
        (MembershipAction::Remove, None) => {}
    }
}
