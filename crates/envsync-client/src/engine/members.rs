use std::collections::BTreeMap;

use envsync_core::role::Role;
use envsync_crypto::MemberKey;
use serde::Serialize;

use super::push::NewVersion;
use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{FORMAT, MembershipAction, MembershipBody, Signed, now_rfc3339};

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
        rows.extend(view.requests.iter().filter_map(|request| {
            let key: MemberKey = request.body.member.parse().ok()?;
            Some(MemberRow {
                name: request.body.name.clone(),
                fingerprint: key.fingerprint(),
                you: key.as_str() == me,
                key: key.to_string(),
                role: None,
                environments: None,
                status: MemberStatus::Request,
            })
        }));
        Ok(rows)
    }

    /// `envsync members accept WHO|--all`: trusts a member key that appeared since, or, for
    /// an access request, makes the requester a member (owners only) and re-encrypts every
    /// environment's head so they can read it. Returns the names accepted. Without a `role`,
    /// a requester gets what their invite promised (on a server), else writer on every
    /// environment.
    pub fn members_accept(
        &mut self,
        project: &str,
        who: Option<&str>,
        role: Option<Role>,
        environments: Option<Vec<String>>,
    ) -> Result<Vec<String>> {
        let view = self.project_view(project)?;
        let mut trust = view.trust.clone();
        let mut accepted = Vec::new();
        let matches = |name: &str, key: &MemberKey| {
            who.is_none_or(|who| who == name || who == key.fingerprint() || who == key.as_str())
        };
        for member in view.roster.active() {
            if !trust.contains(member.key.as_str()) && matches(&member.name, &member.key) {
                trust.add(member.key.as_str(), &member.name, "accepted");
                accepted.push(member.name.clone());
            }
        }
        self.state.save_trust(project, &trust)?;
        let requests: Vec<_> = view
            .requests
            .iter()
            .filter_map(|request| {
                Some((
                    request.body.member.parse::<MemberKey>().ok()?,
                    request.body.name.clone(),
                ))
            })
            .filter(|(key, name)| matches(name, key))
            .collect();
        let mut view = self.project_view(project)?;
        for (key, name) in requests {
            let (role, environments) = match role {
                Some(role) => (role, environments.clone()),
                None => match self.remote.invited_grant(project, key.as_str())? {
                    Some(invited) => invited,
                    None => (Role::Writer, environments.clone()),
                },
            };
            self.add_member(&mut view, &key, &name, role, environments)?;
            self.remote
                .delete_access_request(project, &key.fingerprint())?;
            accepted.push(name);
        }
        if accepted.is_empty() {
            return Err(ClientError::Input(match who {
                Some(who) => format!(
                    "nobody waiting for access to project `{project}` matches `{who}` (see `envsync members list`)"
                ),
                None => format!("nobody is waiting for access to project `{project}`"),
            }));
        }
        Ok(accepted)
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
        self.append_event(
            view,
            MembershipAction::Add,
            key,
            name,
            role,
            environments,
            BTreeMap::new(),
        )?;
        let mut trust = self.state.trust(&view.project)?;
        trust.add(key.as_str(), name, "accepted");
        self.state.save_trust(&view.project, &trust)?;
        *view = self.project_view(&view.project.clone())?;
        self.reencrypt_heads(view, &format!("grant access to {name}"))?;
        Ok(())
    }

    /// `envsync members remove WHO`: removes the member and re-encrypts every head without
    /// them. What they already saw stays seen, so the result lists the keys to rotate.
    pub fn members_remove(&mut self, project: &str, who: &str) -> Result<Removal> {
        let mut view = self.project_view(project)?;
        let member = view.roster.lookup(who)?.cloned().ok_or_else(|| {
            ClientError::Input(format!("no member of project `{project}` matches `{who}`"))
        })?;
        let mut heads = BTreeMap::new();
        for target in self.workspace.targets(Some(project))? {
            if let Some(head) = self.remote.head(project, &target.environment)? {
                heads.insert(target.environment, head);
            }
        }
        let mut exposed = BTreeMap::new();
        for target in self.workspace.targets(Some(project))? {
            if member.may_read(&target.environment)
                && let Some(&head) = heads.get(&target.environment)
            {
                let record = self.fetch_record(&view, &target, head, None)?;
                exposed.insert(target.environment, record.body.keys);
            }
        }
        self.append_event(
            &view,
            MembershipAction::Remove,
            &member.key,
            &member.name,
            member.role,
            member.environments.clone(),
            heads,
        )?;
        view = self.project_view(project)?;
        self.reencrypt_heads(&view, &format!("revoke access of {}", member.name))?;
        Ok(Removal {
            name: member.name,
            exposed,
        })
    }

    #[expect(clippy::too_many_arguments, reason = "one membership event's fields")]
    fn append_event(
        &mut self,
        view: &ProjectView,
        action: MembershipAction,
        key: &MemberKey,
        name: &str,
        role: Role,
        environments: Option<Vec<String>>,
        heads: BTreeMap<String, u64>,
    ) -> Result<()> {
        let identity = self.identity()?;
        let me = identity.member_key().to_string();
        if !view
            .roster
            .find(&me)
            .is_some_and(|member| member.is_active() && member.role.can_manage_members())
        {
            return Err(ClientError::Access(format!(
                "only an owner of project `{}` can change its members; ask one of: {}",
                view.project,
                view.roster
                    .active()
                    .filter(|member| member.role.can_manage_members())
                    .map(|member| member.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let body = MembershipBody {
            format: FORMAT,
            project: view.project.clone(),
            number: view.roster.next_number,
            parent_digest: view.roster.last_digest.clone(),
            action,
            member: key.to_string(),
            name: name.to_owned(),
            role,
            environments,
            heads,
            actor: me,
            created_at: now_rfc3339(),
        };
        let event = Signed::sign(body, identity);
        if !self.remote.append_membership(&event)? {
            return Err(ClientError::Conflict(format!(
                "the members of project `{}` changed at the same moment: run the command again",
                view.project
            )));
        }
        Ok(())
    }

    /// Re-encrypts each environment's head to the current readers, as a new version with the
    /// same content, so access follows membership.
    fn reencrypt_heads(&mut self, view: &ProjectView, message: &str) -> Result<()> {
        for target in self.workspace.targets(Some(&view.project))? {
            let Some(head) = self.remote.head(&view.project, &target.environment)? else {
                continue;
            };
            let record = self.fetch_record(view, &target, head, None)?;
            let ciphertext = self.fetch_ciphertext(&target, &record)?;
            let content = match self.decrypt(view, &target, &record, &ciphertext) {
                Ok(content) => content,
                Err(error) => {
                    self.notice(format!(
                        "could not re-encrypt {}/{}: {error}; a member who can read it must run `envsync members accept` there",
                        view.project, target.environment
                    ));
                    continue;
                }
            };
            let (new_record, new_ciphertext) = self.create_version(
                view,
                &target,
                NewVersion {
                    content: &content,
                    message: message.to_owned(),
                    base: Some(&record),
                    base_content: Some(&content),
                },
            )?;
            self.adopt_if_clean(&target, &new_record, &new_ciphertext, &content)?;
        }
        Ok(())
    }
}
