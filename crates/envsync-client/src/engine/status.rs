use envsync_core::status::{Badge, StatusInputs, badge};
use serde::Serialize;

use super::{ProjectView, Session};
use crate::error::Result;
use crate::records::AccessRequest;
use crate::remote::{Ahead, ShownHeads};
use crate::workspace::{Link, Target};

#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub project: String,
    pub environment: String,
    pub file: String,
    pub badge: Badge,
    pub action: Option<&'static str>,
    /// The version the workspace is based on.
    pub local_version: Option<u64>,
    pub remote_version: Option<u64>,
    /// Who made the remote head, as the membership log names them.
    pub remote_author: Option<String>,
    /// With `envsync use`: the environment this one's file holds instead on this machine.
    pub file_holds: Option<String>,
}

/// Which environment commands given no `--env` act on in a project, and why.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentEnvironment {
    pub project: String,
    pub selection: envsync_core::selection::Selection,
    /// The selection reached a protected environment implicitly: commands refuse it.
    pub needs_explicit_env: bool,
}

/// Someone waiting for this user to act: a new teammate's request, or a key added by
/// another member that this user has not accepted yet.
#[derive(Debug, Clone, Serialize)]
pub struct PendingMember {
    pub project: String,
    pub name: String,
    pub fingerprint: String,
    /// `request` (not a member yet: an owner must accept) or `new key` (a member this user
    /// has not accepted).
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub rows: Vec<StatusRow>,
    pub pending: Vec<PendingMember>,
    /// For owners: secrets a removed member could read that still hold that value.
    pub rotations: Vec<super::PendingRotation>,
    /// Per project: the environment commands without `--env` act on.
    pub current: Vec<CurrentEnvironment>,
    /// Each publish target of `envsync.toml`: whether it was last given the head, from the
    /// publication records on the remote (the targets are not asked).
    pub publications: Vec<super::TargetStatus>,
    /// Heads still encrypted to a removed member (an interrupted `members remove`).
    pub unrevoked: Vec<super::UnrevokedHead>,
}

impl Session {
    /// `envsync status`: one row per (project, environment). Needs no identity.
    pub fn status(&mut self, project: Option<&str>) -> Result<StatusReport> {
        let targets = self.workspace.targets(project)?;
        let mut report = StatusReport {
            rows: Vec::with_capacity(targets.len()),
            pending: Vec::new(),
            rotations: Vec::new(),
            current: Vec::new(),
            publications: Vec::new(),
            unrevoked: Vec::new(),
        };
        // Each project's view, with its heads as one read showed them (where the remote
        // has such a read). They live only as long as this call: no other command, nor
        // the next status, is ever answered from them.
        let mut views: Vec<(ProjectView, Option<ShownHeads>)> = Vec::new();
        let own = self.own_key();
        for target in targets {
            if !views.iter().any(|(view, _)| view.project == target.project) {
                // The requests and the heads do not depend on the log: read alongside it.
                let (project, remote) = (target.project.clone(), self.remote.as_ref());
                let requests = Ahead::start(remote, move |remote| remote.access_requests(&project));
                let project = target.project.clone();
                let heads = Ahead::start(remote, move |remote| remote.heads(&project));
                let view = self.project_view(&target.project)?;
                if let Some(removed) = self.removal_of_self(&view) {
                    return Err(removed);
                }
                let requests = self.access_requests_read(&view, requests)?;
                report
                    .pending
                    .extend(others_pending(&view, &requests, own.as_deref()));
                let shown = Ahead::answer_or(heads, || self.remote.heads(&target.project))?;
                views.push((view, shown));
            }
            let (view, shown) = views
                .iter()
                .find(|(view, _)| view.project == target.project)
                .expect("the project's view was just loaded");
            let extras = Extras {
                rotations: &mut report.rotations,
                publications: &mut report.publications,
            };
            let row = self.status_row(view, target, own.as_deref(), shown.as_ref(), extras)?;
            report.rows.push(row);
        }
        report.unrevoked = self.unrevoked_heads.values().cloned().collect();
        report.current = views
            .iter()
            .map(|(view, _)| self.current_environment(&view.project))
            .collect();
        Ok(report)
    }

    fn current_environment(&self, project: &str) -> CurrentEnvironment {
        let selection = self.workspace.selection(project, None);
        let settings = &self.workspace.config.projects[project];
        CurrentEnvironment {
            project: project.to_owned(),
            needs_explicit_env: selection.needs_explicit_env(settings),
            selection,
        }
    }

    /// One environment's row; an owner's rotation reminders for it, and its publish
    /// targets, go to `extras`. Its head comes from `shown` when that holds it.
    fn status_row(
        &mut self,
        view: &ProjectView,
        target: Target,
        own: Option<&str>,
        shown: Option<&ShownHeads>,
        extras: Extras<'_>,
    ) -> Result<StatusRow> {
        if let Link::Displaced { holder } = &target.link {
            let holder = holder.clone();
            return Ok(StatusRow {
                badge: Badge::NotLinked,
                file_holds: Some(holder),
                ..no_access(target)
            });
        }
        let standing = own.and_then(|key| view.roster.find(key));
        if standing
            .is_some_and(|member| member.is_active() && !member.may_read(&target.environment))
        {
            return Ok(no_access(target));
        }
        let may_push = standing.is_none_or(|member| member.may_push(&target.environment));
        // Verified exactly as `pull` verifies: a head that does not chain to what this
        // machine saw is an error here too, never "synced".
        let state = self.state.read(&target)?;
        let verified = self.verified_shown_head(view, &target, shown, state.as_ref())?;
        let (head_record, head_pin) = verified.unzip();
        let head = head_record.as_ref().map(|record| record.body.number);
        let owner =
            standing.is_some_and(|member| member.is_active() && member.role.can_manage_members());
        if let Some(record) = head_record.as_ref().filter(|_| owner) {
            extras
                .rotations
                .extend(self.pending_rotations(view, &target, record)?);
        }
        let targets = self.publish_targets(&target);
        extras.publications.extend(self.target_statuses(
            view,
            &target,
            head_pin.as_ref(),
            &targets,
        )?);
        let local = self.local_sha256(&target)?;
        let badge = badge(StatusInputs {
            local_file: local.as_deref(),
            base: state
                .as_ref()
                .map(|state| (state.base_version, state.file_sha256.as_str())),
            remote_head: head,
        });
        Ok(StatusRow {
            project: target.place.project,
            environment: target.place.environment,
            file: target.file_label,
            badge,
            action: advice(badge, head, may_push),
            local_version: state.map(|state| state.base_version),
            remote_version: head,
            remote_author: head_record
                .as_ref()
                .and_then(|record| view.author_of(record))
                .map(|(name, _)| name),
            file_holds: None,
        })
    }
}

/// Where one row's by-products go.
struct Extras<'a> {
    rotations: &'a mut Vec<super::PendingRotation>,
    publications: &'a mut Vec<super::TargetStatus>,
}

impl Session {
    /// The store URLs `envsync.toml` publishes `target`'s environment to.
    fn publish_targets(&self, target: &Target) -> Vec<String> {
        self.workspace.config.projects[&target.project]
            .publish
            .iter()
            .filter(|publish| publish.environment == target.environment)
            .map(|publish| publish.to.clone())
            .collect()
    }
}

/// Who waits for this user: your own request waits for an owner; it is not yours to accept.
fn others_pending(
    view: &ProjectView,
    requests: &[AccessRequest],
    own: Option<&str>,
) -> Vec<PendingMember> {
    let own_fingerprint = own
        .and_then(|key| key.parse::<envsync_crypto::MemberKey>().ok())
        .map(|key| key.fingerprint());
    pending_members(view, requests)
        .into_iter()
        .filter(|pending| Some(&pending.fingerprint) != own_fingerprint.as_ref())
        .collect()
}

/// The badge's action, if this member can take it: nothing to pull from an environment with
/// no versions (push creates it), and no push for a reader.
fn advice(badge: Badge, head: Option<u64>, may_push: bool) -> Option<&'static str> {
    match (badge.action(), head) {
        (Some("pull"), None) if may_push => Some("push"),
        (Some("pull"), None) => None,
        (Some("push" | "sync"), _) if !may_push => None,
        (action, _) => action,
    }
}

/// The row of an environment the member's role does not cover: nothing is asked of the
/// remote, which would refuse.
fn no_access(target: Target) -> StatusRow {
    StatusRow {
        project: target.place.project,
        environment: target.place.environment,
        file: target.file_label,
        badge: Badge::NoAccess,
        action: None,
        local_version: None,
        remote_version: None,
        remote_author: None,
        file_holds: None,
    }
}

pub(crate) fn pending_members(
    view: &ProjectView,
    requests: &[AccessRequest],
) -> Vec<PendingMember> {
    let new_keys = view
        .roster
        .active()
        .filter(|member| !view.trust.contains(member.key.as_str()))
        .map(|member| PendingMember {
            project: view.project.clone(),
            name: member.name.clone(),
            fingerprint: member.key.fingerprint(),
            kind: "new key",
        });
    let requests = requests.iter().filter_map(|request| {
        let key: envsync_crypto::MemberKey = request.body.member.parse().ok()?;
        Some(PendingMember {
            project: view.project.clone(),
            name: request.body.name.clone(),
            fingerprint: key.fingerprint(),
            kind: "request",
        })
    });
    new_keys.chain(requests).collect()
}
