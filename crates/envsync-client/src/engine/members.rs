//! Membership changes: accepting keys and requests, adding and removing members. Every
//! change pins every environment's head on the remote (not only the ones this clone links)
//! and re-encrypts every head, so access follows membership across the whole project.

use std::collections::BTreeMap;

use envsync_core::role::Role;
use envsync_crypto::MemberKey;
use serde::Serialize;

use super::publish::Change;
use super::reencrypt::{AccessChange, StartingHeads};
use super::{ProjectView, Session};
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::membership::Member;
use crate::records::{AccessRequest, MembershipAction, Seal, SignedInvite};
use crate::remote::SignedInvites;
use crate::workspace::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// A member whose key this user trusts.
    Trusted,
    /// A member whose key this user has not accepted yet.
    NewKey,
    /// Not a member: asked for access.
    Request,
    Removed,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    pub name: String,
    pub fingerprint: String,
    pub key: String,
    /// For an access request, what `members accept` grants without `--role`: the role of
    /// the owner-signed invite it redeemed, else writer; `None` when that invite is bad.
    pub role: Option<Role>,
    pub environments: Option<Vec<String>>,
    pub status: MemberStatus,
    pub you: bool,
}

/// What removing a member means for the secrets they could read.
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    pub name: String,
    /// Environment → keys the removed member could read: rotate these.
    pub exposed: BTreeMap<String, Vec<String>>,
}

/// One grant `members accept` is about to sign (or one key it is about to trust), shown to
/// the owner before anything is signed.
#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    pub name: String,
    pub fingerprint: String,
    /// `request` (admits a new member) or `key` (trusts a member another owner added).
    pub kind: &'static str,
    pub role: Option<Role>,
    pub environments: Option<Vec<String>>,
    /// Where the role came from: the command line, an owner-signed invite, or the default.
    pub source: String,
}

/// What an owner asked that a request be granted (`--role`, `--env`), with the project's
/// invites as one listing showed them, when there is one.
struct Asked<'a> {
    role: Option<Role>,
    environments: &'a Option<Vec<String>>,
    invites: Option<&'a SignedInvites>,
}

/// What accepting a request grants, and where that came from.
struct Granted {
    role: Role,
    environments: Option<Vec<String>>,
    source: String,
}

impl Session {
    pub fn members(&mut self, project: &str) -> Result<Vec<MemberRow>> {
        let view = self.project_view(project)?;
        let me = self.identity()?.member_key().to_string();
        let mut rows: Vec<MemberRow> = view
            .roster
            .members
            .iter()
            .map(|member| MemberRow {
                name: member.name.clone(),
                fingerprint: member.key.fingerprint(),
                key: member.key.to_string(),
                role: Some(member.role),
                environments: member.environments.clone(),
                status: if !member.is_active() {
                    MemberStatus::Removed
                } else if view.trust.contains(member.key.as_str()) {
                    MemberStatus::Trusted
                } else {
                    MemberStatus::NewKey
                },
                you: member.key.as_str() == me,
            })
            .collect();
        // Listing must not fail for an invite it cannot read: that request shows no role.
        let requests = self.access_requests(&view)?;
        let invites = self.listed_invites(&view.project, &requests).ok().flatten();
        rows.extend(requests.iter().filter_map(|request| {
            // What accepting would grant, so an owner sees the invite's role before signing;
            // nothing when the invite does not check out (accepting it is refused then).
            let asked = Asked {
                role: None,
                environments: &None,
                invites: invites.as_ref(),
            };
            let grant = self.grant_for(&view, request, asked).ok();
            let (key, grant) = match grant {
                Some((key, grant)) => (key, Some(grant)),
                None => (request.body.member.parse().ok()?, None),
            };
            Some(MemberRow {
                name: request.body.name.clone(),
                fingerprint: key.fingerprint(),
                you: key.as_str() == me,
                key: key.to_string(),
                role: grant.as_ref().and_then(|grant| grant.role),
                environments: grant.and_then(|grant| grant.environments),
                status: MemberStatus::Request,
            })
        }));
        Ok(rows)
    }

    /// `envsync members accept WHO|--all`: trusts a member key that appeared since, or, for
    /// an access request, makes the requester a member (owners only) and re-encrypts every
    /// environment's head so they can read it. `WHO` must name one person: a name shared by
    /// several keys is refused with their fingerprints. Without a `role`, a requester gets
    /// what the owner-signed invite they redeemed says (on a server), else writer on every
    /// environment. `confirm` sees each grant before it is signed and may refuse it.
    pub fn members_accept(
        &mut self,
        project: &str,
        who: Option<&str>,
        role: Option<Role>,
        environments: Option<Vec<String>>,
        confirm: &mut dyn FnMut(&Acceptance) -> bool,
    ) -> Result<Vec<Acceptance>> {
        let view = self.project_view(project)?;
        let requests = self.access_requests(&view)?;
        let (keys, requests) = matching(&view, &requests, who)?;
        let mut accepted = Vec::new();
        let mut trust = view.trust.clone();
        for member in keys {
            let acceptance = Acceptance {
                name: member.name.clone(),
                fingerprint: member.key.fingerprint(),
                kind: "key",
                role: Some(member.role),
                environments: member.environments.clone(),
                source: "added by an owner; you now trust the key".into(),
            };
            if confirm(&acceptance) {
                trust.add(member.key.as_str(), &member.name, "accepted");
                accepted.push(acceptance);
            }
        }
        self.state.save_trust(project, &trust)?;
        let mut view = self.project_view(project)?;
        let invites = self.listed_invites(project, &requests)?;
        for request in requests {
            let asked = Asked {
                role,
                environments: &environments,
                invites: invites.as_ref(),
            };
            let (key, acceptance) = self.grant_for(&view, &request, asked)?;
            if !confirm(&acceptance) {
                continue;
            }
            let granted = (
                acceptance.role.unwrap_or(Role::Writer),
                acceptance.environments.clone(),
            );
            self.add_member(&mut view, &key, &acceptance.name, granted.0, granted.1)?;
            self.remote
                .delete_access_request(project, &key.fingerprint())?;
            accepted.push(acceptance);
        }
        // An accept stopped after its entry was written leaves heads the member cannot read.
        // Stopped before it trusted the key too, that key is among `keys` above: trusting it
        // is not enough, so the heads are finished unless this run accepted a request (which
        // re-encrypted them already).
        let reencrypted = accepted
            .iter()
            .any(|acceptance| acceptance.kind == "request");
        if !reencrypted
            && let Some(who) = who
            && let Some(finished) = self.finish_interrupted_accept(&view, who)?
        {
            accepted.retain(|earlier| earlier.fingerprint != finished.fingerprint);
            accepted.push(finished);
        }
        if accepted.is_empty() {
            return Err(ClientError::Input(match who {
                Some(who) => format!(
                    "nobody waiting for access to project `{project}` was accepted as `{who}` (see `envsync members list`)"
                ),
                None => format!("nobody is waiting for access to project `{project}`"),
            }));
        }
        Ok(accepted)
    }

    /// An accept stopped after its membership entry was written but before every head was
    /// re-encrypted (killed, or the network dropped) leaves a member who cannot read the
    /// heads; the refusal they get says to run the accept again, which ends here and
    /// re-encrypts. `None` when `who` is no member or already reads every head it may.
    fn finish_interrupted_accept(
        &mut self,
        view: &ProjectView,
        who: &str,
    ) -> Result<Option<Acceptance>> {
        let Some(member) = view.roster.lookup(who)?.cloned() else {
            return Ok(None);
        };
        let heads = self.verified_heads(view)?;
        let behind = heads.iter().any(|(environment, record)| {
            member.may_read(environment)
                && !record
                    .body
                    .recipients
                    .iter()
                    .any(|key| key == member.key.as_str())
        });
        if !behind || !view.trust.contains(member.key.as_str()) {
            return Ok(None);
        }
        let start = StartingHeads::verified(heads);
        let grant = AccessChange::Grant {
            name: member.name.clone(),
            fingerprint: member.key.fingerprint(),
        };
        self.reencrypt_heads(view, &grant, &start)?;
        Ok(Some(Acceptance {
            name: member.name.clone(),
            fingerprint: member.key.fingerprint(),
            kind: "request",
            role: Some(member.role),
            environments: member.environments.clone(),
            source: "an earlier accept that stopped before re-encrypting: the heads they \
                     could not read are now encrypted to them"
                .into(),
        }))
    }

    /// What accepting `request` grants and why: `--role`/`--env` first, else the invite the
    /// requester redeemed, if an owner of this project signed it, else the default.
    fn grant_for(
        &self,
        view: &ProjectView,
        request: &AccessRequest,
        asked: Asked<'_>,
    ) -> Result<(MemberKey, Acceptance)> {
        let key: MemberKey = request.body.member.parse().map_err(|error| {
            ClientError::Integrity(format!("an access request's key is malformed: {error}"))
        })?;
        let granted = match asked.role {
            Some(role) => Granted {
                role,
                environments: asked.environments.clone(),
                source: "your --role/--env".to_owned(),
            },
            None => self
                .invited(view, request, asked.invites)?
                .unwrap_or_else(|| Granted {
                    role: Role::Writer,
                    environments: asked.environments.clone(),
                    source: "the default (no owner-signed invite)".to_owned(),
                }),
        };
        let acceptance = Acceptance {
            name: request.body.name.clone(),
            fingerprint: key.fingerprint(),
            kind: "request",
            role: Some(granted.role),
            environments: granted.environments,
            source: granted.source,
        };
        Ok((key, acceptance))
    }

    /// The role and environments of the invite `request` names, once its signature, its
    /// signer (an active owner) and its project and code check out; a bad one is an error.
    fn invited(
        &self,
        view: &ProjectView,
        request: &AccessRequest,
        invites: Option<&SignedInvites>,
    ) -> Result<Option<Granted>> {
        let Some(code_sha256) = &request.body.invite else {
            return Ok(None);
        };
        let Some(invite) = self.signed_invite(&view.project, code_sha256, invites)? else {
            return Ok(None);
        };
        let signer = invite.verified_signer()?;
        let owner = view
            .roster
            .find(signer.as_str())
            .filter(|member| member.is_active() && member.role.can_manage_members());
        let body = &invite.body;
        match owner {
            Some(owner) if body.project == view.project && body.code_sha256 == *code_sha256 => {
                Ok(Some(Granted {
                    role: body.role,
                    environments: body.environments.clone(),
                    source: format!("the invite {} signed", owner.label()),
                }))
            }
            _ => Err(ClientError::Integrity(format!(
                "the invite {}'s request names was not signed by an owner of project `{}`, or not for this request: refusing to grant what it says",
                request.body.name, view.project
            ))),
        }
    }

    /// Every signed invite of `project` in one read, when one of `requests` names an invite
    /// and the remote lists them; `None` otherwise, and each is read alone. Without it an
    /// owner's `members list` made a request per pending access request.
    fn listed_invites(
        &self,
        project: &str,
        requests: &[AccessRequest],
    ) -> Result<Option<SignedInvites>> {
        if requests.iter().all(|request| request.body.invite.is_none()) {
            return Ok(None);
        }
        self.remote.signed_invites(project)
    }

    /// The owner-signed invite of the code whose SHA-256 is `code_sha256`: parsed from
    /// `listed` when there is a listing, else read alone. The caller verifies it.
    fn signed_invite(
        &self,
        project: &str,
        code_sha256: &str,
        listed: Option<&SignedInvites>,
    ) -> Result<Option<SignedInvite>> {
        let Some(listed) = listed else {
            return self.remote.signed_invite(project, code_sha256);
        };
        let Some(json) = listed.get(code_sha256) else {
            return Ok(None);
        };
        let what = format!("the invite {code_sha256} of {project}");
        Ok(Some(SignedInvite::from_json(json, &what)?))
    }

    /// `envsync members add KEY`: adds a member key received out of band (a CI job's).
    pub fn members_add(
        &mut self,
        project: &str,
        key: &str,
        name: &str,
        role: Role,
        environments: Option<Vec<String>>,
    ) -> Result<()> {
        let key: MemberKey = key
            .parse()
            .map_err(|error: envsync_crypto::CryptoError| ClientError::Input(error.to_string()))?;
        let mut view = self.project_view(project)?;
        if view
            .roster
            .find(key.as_str())
            .is_some_and(|member| member.is_active())
        {
            return Err(ClientError::Input(format!(
                "{name} ({}) is already a member",
                key.fingerprint()
            )));
        }
        self.add_member(&mut view, &key, name, role, environments)
    }

    fn add_member(
        &mut self,
        view: &mut ProjectView,
        key: &MemberKey,
        name: &str,
        role: Role,
        environments: Option<Vec<String>>,
    ) -> Result<()> {
        let change = Change {
            action: MembershipAction::Add,
            key,
            name,
            role,
            environments,
        };
        let heads = self.append_event(view, change)?;
        let project = view.project.clone();
        // The entry is written: whatever fails now must say so, or the owner would think
        // nothing happened and run the command again.
        let admitted = |error: ClientError| ClientError::AfterChange {
            done: format!("{name} is now a member of project `{project}`"),
            failure: Box::new(error),
        };
        let mut trust = self.state.trust(&view.project).map_err(admitted)?;
        trust.add(key.as_str(), name, "accepted");
        self.state
            .save_trust(&view.project, &trust)
            .map_err(admitted)?;
        *view = self.project_view(&project).map_err(admitted)?;
        let start = StartingHeads::verified(heads);
        let grant = AccessChange::Grant {
            name: name.to_owned(),
            fingerprint: key.fingerprint(),
        };
        self.reencrypt_heads(view, &grant, &start).map_err(admitted)
    }

    /// `envsync members remove WHO`: removes the member, pinning every environment's head
    /// on the remote, and re-encrypts every head without them. What they already saw stays
    /// seen, so the result lists the keys to rotate.
    pub fn members_remove(&mut self, project: &str, who: &str) -> Result<Removal> {
        let mut view = self.project_view(project)?;
        let Some(member) = view.roster.lookup(who)?.cloned() else {
            return self.finish_interrupted_removal(&view, who);
        };
        let heads = self.append_event(
            &view,
            Change {
                action: MembershipAction::Remove,
                key: &member.key,
                name: &member.name,
                role: member.role,
                environments: member.environments.clone(),
            },
        )?;
        let mut exposed = BTreeMap::new();
        for (environment, record) in &heads {
            if member.may_read(environment) {
                exposed.insert(environment.clone(), record.body.keys.clone());
            }
        }
        view = self.project_view(project)?;
        let start = StartingHeads::pinned(heads);
        let revoke = AccessChange::Revoke {
            name: member.name.clone(),
        };
        self.reencrypt_heads(&view, &revoke, &start)?;
        Ok(Removal {
            name: member.name,
            exposed,
        })
    }

    /// `members remove` run again for a member already removed: a removal killed before it
    /// re-encrypted every head left heads they can still read, which this re-encrypts.
    fn finish_interrupted_removal(&mut self, view: &ProjectView, who: &str) -> Result<Removal> {
        let project = &view.project;
        let removed: Vec<_> = view
            .roster
            .members
            .iter()
            .filter(|member| !member.is_active())
            .filter(|member| {
                member.name == who || member.key.fingerprint() == who || member.key.as_str() == who
            })
            .cloned()
            .collect();
        let heads = self.verified_heads(view)?;
        let mut exposed = BTreeMap::new();
        for (environment, record) in &heads {
            let recipients = &record.body.recipients;
            let theirs = |member: &Member| recipients.iter().any(|key| key == member.key.as_str());
            if removed.iter().any(theirs) {
                exposed.insert(environment.clone(), record.body.keys.clone());
            }
        }
        let (Some(member), false) = (removed.first(), exposed.is_empty()) else {
            return Err(ClientError::Input(match removed.first() {
                Some(member) => format!(
                    "{} was removed from project `{project}` already, and no head is \
                     encrypted to them",
                    member.name
                ),
                None => format!("no member of project `{project}` matches `{who}`"),
            }));
        };
        let name = member.name.clone();
        let start = StartingHeads::verified(heads);
        let revoke = AccessChange::Revoke { name: name.clone() };
        self.reencrypt_heads(view, &revoke, &start)?;
        Ok(Removal { name, exposed })
    }

    /// Every environment of the project on the remote, with its verified head. The heads
    /// come in one read where the remote has one (a server), as `status` reads them: each
    /// record is verified as if read alone, and the read is forgotten when this returns.
    pub(crate) fn verified_heads(
        &mut self,
        view: &ProjectView,
    ) -> Result<BTreeMap<String, crate::records::VersionRecord>> {
        let shown = self.remote.heads(&view.project)?;
        let mut heads = BTreeMap::new();
        for environment in self.remote.environments(&view.project)? {
            let target = self.any_target(EnvironmentRef::new(&view.project, &environment));
            let state = self.state.read(&target)?;
            let verified =
                self.verified_shown_head(view, &target, shown.as_ref(), state.as_ref())?;
            if let Some((record, _)) = verified {
                heads.insert(environment, record);
            }
        }
        Ok(heads)
    }

    /// The workspace's target for the environment, or a file-less one for an environment
    /// this clone does not link (only its head is touched, never a file).
    pub(crate) fn any_target(&self, place: EnvironmentRef) -> Target {
        self.workspace
            .targets(Some(&place.project))
            .ok()
            .and_then(|targets| targets.into_iter().find(|target| target.place == place))
            .unwrap_or_else(|| Target::unlinked(place))
    }
}

/// The member keys to trust and the requests to grant that `who` names (all of them with
/// `None`). A name that several keys share is refused, listing their fingerprints.
fn matching<'a>(
    view: &'a ProjectView,
    requests: &[AccessRequest],
    who: Option<&str>,
) -> Result<(Vec<&'a crate::membership::Member>, Vec<AccessRequest>)> {
    let matches = |name: &str, key: &str, fingerprint: &str| {
        who.is_none_or(|who| who == name || who == fingerprint || who == key)
    };
    let keys: Vec<_> = view
        .roster
        .active()
        .filter(|member| !view.trust.contains(member.key.as_str()))
        .filter(|member| matches(&member.name, member.key.as_str(), &member.key.fingerprint()))
        .collect();
    let requests: Vec<AccessRequest> = requests
        .iter()
        .filter(|request| {
            request
                .body
                .member
                .parse::<MemberKey>()
                .is_ok_and(|key| matches(&request.body.name, key.as_str(), &key.fingerprint()))
        })
        .cloned()
        .collect();
    if let Some(who) = who
        && keys.len() + requests.len() > 1
    {
        let mut fingerprints: Vec<String> = keys.iter().map(|member| member.label()).collect();
        fingerprints.extend(requests.iter().filter_map(|request| {
            let key: MemberKey = request.body.member.parse().ok()?;
            Some(format!("{} ({})", request.body.name, key.fingerprint()))
        }));
        return Err(ClientError::Input(format!(
            "`{who}` matches {} keys: {}. Check with the person which fingerprint is theirs and accept that one",
            fingerprints.len(),
            fingerprints.join(", ")
        )));
    }
    Ok((keys, requests))
}
