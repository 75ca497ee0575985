//! `--dry-run` for pull, push and sync: what each would change, as key names, with nothing
//! written: not the linked file, not `.envsync/`, not this user's ledger, not the remote.
//! What is read is verified exactly as for the real command, against everything the ledger
//! already holds, so a dry run cannot be fooled into a wrong answer.

use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use envsync_core::merge::{Conflict, KeyChanges, Resolution, diff_vars, merge3};
use indexmap::IndexMap;
use serde::Serialize;
use zeroize::Zeroizing;

use super::push::remote_moved;
use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::VersionRecord;
use crate::state::LocalState;
use crate::workspace::Target;

/// What a command would do. Key names only, never values.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub project: String,
    pub environment: String,
    /// `pull`, `push`, `merge` (pull, merge, then push if anything is left) or `nothing`.
    pub action: &'static str,
    /// The remote head now.
    pub remote_version: Option<u64>,
    /// How the linked file would change; `None` when it would be left as it is.
    pub file: Option<KeyChanges>,
    /// The version that would be pushed; `None` when nothing would be.
    pub push: Option<PlannedVersion>,
    /// Keys changed differently on both sides that nothing resolves (no --ours/--theirs):
    /// the real sync would stop here (exit 3) and write nothing.
    pub conflicts: Vec<String>,
}

/// A version a push would create.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedVersion {
    pub number: u64,
    /// Against the version it would build on.
    pub changes: KeyChanges,
}

impl DryRun {
    fn new(target: &Target) -> Self {
        Self {
            project: target.project.clone(),
            environment: target.environment.clone(),
            action: "nothing",
            remote_version: None,
            file: None,
            push: None,
            conflicts: Vec::new(),
        }
    }
}

impl Session {
    /// `pull --dry-run`: what pulling would write into the linked file.
    pub fn pull_dry_run(&mut self, target: &Target, force: bool) -> Result<DryRun> {
        self.begin_dry_run()?;
        let mut plan = DryRun::new(target);
        let view = self.project_view(&target.project)?;
        let Some(record) = self.verified_head(&view, target)? else {
            if view.roster.members.is_empty() {
                return Err(self.no_project_yet(target));
            }
            return Ok(plan);
        };
        plan.remote_version = Some(record.body.number);
        let content = self.dry_decrypt(&view, target, &record)?;
        let local = self.read_local(target)?;
        if let Some(local) = &local
            && local.as_slice() != content.as_slice()
            && !force
            && self.has_unpushed_edits(target, local)?
        {
            return Err(ClientError::LocalChanges(format!(
                "{} has changes that are not on the remote; pulling would overwrite them (dry run: nothing was written). Run `envsync sync --dry-run` to see a merge, or `envsync pull --force --dry-run`",
                target.file_label
            )));
        }
        if local.as_deref() != Some(content.as_slice()) {
            let before = match &local {
                Some(bytes) => Self::parse_local(target, bytes)?.vars(),
                None => IndexMap::new(),
            };
            let after = Self::parse_local(target, &content)?.vars();
            plan.action = "pull";
            plan.file = Some(diff_vars(&before, &after));
        }
        Ok(plan)
    }

    /// `push --dry-run`: the version pushing would create, and what it would change.
    pub fn push_dry_run(&mut self, target: &Target) -> Result<DryRun> {
        self.begin_dry_run()?;
        let mut plan = DryRun::new(target);
        let local = self.require_local_file(target, "nothing to push")?;
        let local_vars = Self::parse_local(target, &local)?.vars();
        let view = self.project_view(&target.project)?;
        if view.roster.members.is_empty() {
            // The first push founds the project and makes this user its owner.
            return Ok(planned_push(plan, 1, &IndexMap::new(), &local_vars));
        }
        if !self.push_standing(&view, &target.environment)? {
            return Err(not_a_member(&view));
        }
        self.trusted_recipients(&view, &target.environment)?;
        let head = self.verified_head(&view, target)?;
        plan.remote_version = head.as_ref().map(|record| record.body.number);
        let state = self.state.read(target)?;
        let base_number = state.as_ref().map(|state| state.base_version);
        if plan.remote_version != base_number {
            return Err(remote_moved(target, plan.remote_version, base_number));
        }
        if state.is_some_and(|state| state.file_sha256 == sha256_hex(&local)) {
            return Ok(plan);
        }
        let base_vars = match self.local_base_content(target)? {
            Some((_, content)) => Self::parse_local(target, &content)?.vars(),
            None => IndexMap::new(),
        };
        let number = base_number.map_or(1, |base| base + 1);
        Ok(planned_push(plan, number, &base_vars, &local_vars))
    }

    /// `sync --dry-run`: the pull, merge and push a sync would make. `resolve` settles
    /// conflicts as `--ours`/`--theirs` would; `None` leaves a conflict listed.
    pub fn sync_dry_run(
        &mut self,
        target: &Target,
        resolve: &mut dyn FnMut(&Conflict) -> Option<Resolution>,
    ) -> Result<DryRun> {
        self.begin_dry_run()?;
        let view = self.project_view(&target.project)?;
        let head = self.verified_head(&view, target)?;
        let state = self.state.read(target)?;
        let local = self.read_local(target)?;
        let local_changed = match (&local, &state) {
            (Some(local), Some(state)) => state.file_sha256 != sha256_hex(local),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let base_number = state.as_ref().map(|state| state.base_version);
        let head_number = head.as_ref().map(|record| record.body.number);
        match head {
            Some(head) if head_number != base_number && local_changed => {
                let local = local.unwrap_or_default();
                self.merge_dry_run(&view, target, &head, &local, resolve)
            }
            Some(_) if head_number != base_number => self.pull_dry_run(target, false),
            _ if local_changed => self.push_dry_run(target),
            _ => {
                let mut plan = DryRun::new(target);
                plan.remote_version = head_number;
                Ok(plan)
            }
        }
    }

    /// The merge a sync would make of the remote head (past the local base) and `local`.
    fn merge_dry_run(
        &mut self,
        view: &ProjectView,
        target: &Target,
        head: &VersionRecord,
        local: &[u8],
        resolve: &mut dyn FnMut(&Conflict) -> Option<Resolution>,
    ) -> Result<DryRun> {
        let mut plan = DryRun::new(target);
        plan.action = "merge";
        plan.remote_version = Some(head.body.number);
        let theirs_content = self.dry_decrypt(view, target, head)?;
        let base_content = self.local_base_content(target)?.map(|(_, content)| content);
        let base = Document::parse(&String::from_utf8_lossy(
            base_content.as_deref().map_or(&[][..], Vec::as_slice),
        ));
        let ours = Self::parse_local(target, local)?;
        let theirs = Self::parse_local(target, &theirs_content)?;
        let mut unresolved = Vec::new();
        let merged = merge3(&base, &ours, &theirs).resolve(|conflict| {
            resolve(conflict).unwrap_or_else(|| {
                unresolved.push(conflict.key.clone());
                Resolution::Ours
            })
        })?;
        plan.conflicts = unresolved;
        let merged = merged.vars();
        plan.file = Some(diff_vars(&ours.vars(), &merged)).filter(|file| !file.is_empty());
        if merged != theirs.vars() {
            let number = head.body.number + 1;
            plan = planned_push(plan, number, &theirs.vars(), &merged);
            plan.action = "merge";
        }
        Ok(plan)
    }

    /// From here on this session writes nothing to `.envsync/` or the ledger, and it must
    /// not create an identity: a dry run without one says so instead.
    fn begin_dry_run(&mut self) -> Result<()> {
        self.state = LocalState::read_only(self.workspace.state_dir());
        self.ledger = self.ledger.read_only();
        if self.identity_config.load()?.is_none() {
            return Err(ClientError::NoIdentity(
                self.identity_config.default_path.clone(),
            ));
        }
        Ok(())
    }

    /// Decrypts `record` for a dry run. A user who is not a member is told so without the
    /// access request a real pull would file on the remote.
    fn dry_decrypt(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.require_dry_membership(view)?;
        let ciphertext = self.fetch_ciphertext(target, record)?;
        self.decrypt(view, target, record, &ciphertext)
    }

    fn require_dry_membership(&mut self, view: &ProjectView) -> Result<()> {
        let key = self.identity()?.member_key().to_string();
        match view.roster.find(&key) {
            Some(member) if member.is_active() => Ok(()),
            _ => Err(not_a_member(view)),
        }
    }
}

fn not_a_member(view: &ProjectView) -> ClientError {
    ClientError::Access(format!(
        "you are not a member of project `{}`; a dry run files no access request: run the command without --dry-run to ask for access",
        view.project
    ))
}

fn planned_push(
    mut plan: DryRun,
    number: u64,
    old: &IndexMap<String, String>,
    new: &IndexMap<String, String>,
) -> DryRun {
    plan.action = "push";
    plan.push = Some(PlannedVersion {
        number,
        changes: diff_vars(old, new),
    });
    plan
}
