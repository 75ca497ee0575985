//! The documents of the everyday commands: status, push, pull, sync, their dry runs, diff.

use envsync_client::EnvironmentRef;
use envsync_client::engine::{DiffSide, DryRun, KeyDiff, PullOutcome, StatusReport, SyncOutcome};
use envsync_client::workspace::Target;
use envsync_core::merge::KeyChanges;
use envsync_core::records::ChangeSummary;
use envsync_core::status::{Badge, PublishState};
use schemars::JsonSchema;
use serde::Serialize;

use super::key_list::{FULL_LIST_HINT, is_shortened, key_list};
use super::{Document, names};
use crate::printer::{Printer, table};

/// `envsync status --json`.
#[derive(Serialize, JsonSchema)]
pub struct Status {
    pub environments: Vec<EnvironmentStatus>,
    /// Keys waiting for an owner: access requests and members' new keys.
    pub pending_members: Vec<PendingMember>,
    /// For owners: secrets a removed member could read that still hold that value.
    pub rotations: Vec<Rotation>,
    /// Per project: the environment commands given no `--env` act on, and what chose it.
    pub current: Vec<super::CurrentEnvironment>,
    /// Each publish target envsync.toml names: whether it was last given the head, from
    /// the signed publication records on the remote (the targets are not contacted).
    pub publications: Vec<PublicationStatus>,
    /// Heads still encrypted to a removed member: a `members remove` stopped before it
    /// re-encrypted them. `envsync repair` (any writer) finishes it.
    pub unrevoked: Vec<UnrevokedHead>,
}

#[derive(Serialize, JsonSchema)]
pub struct UnrevokedHead {
    pub project: String,
    pub environment: String,
    /// The head version still encrypted to them.
    pub version: u64,
    /// Who was removed and can still read it, as `name (fingerprint)`.
    pub removed: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct PublicationStatus {
    pub project: String,
    pub environment: String,
    /// The store URL, as envsync.toml writes it.
    pub to: String,
    pub state: PublishState,
    /// The version the newest record for this target names.
    pub version: Option<u64>,
    /// Who published it, as the owner-signed membership log names them.
    pub by: Option<String>,
    /// When (RFC 3339).
    pub time: Option<String>,
}

impl From<envsync_client::engine::TargetStatus> for PublicationStatus {
    fn from(status: envsync_client::engine::TargetStatus) -> Self {
        let last = status.last;
        Self {
            project: status.project,
            environment: status.environment,
            to: status.to,
            state: status.state,
            version: last.as_ref().map(|last| last.version.number),
            time: last.as_ref().map(|last| last.published_at.clone()),
            by: last.map(|last| last.publisher),
        }
    }
}

#[derive(Serialize, JsonSchema)]
pub struct EnvironmentStatus {
    pub project: String,
    pub environment: String,
    /// The linked file, as envsync.toml names it.
    pub file: String,
    pub badge: Badge,
    /// What brings the environment back to `synced`; none when it is.
    #[schemars(with = "Option<names::Action>")]
    pub action: Option<&'static str>,
    /// The version the workspace is based on.
    pub local_version: Option<u64>,
    pub remote_version: Option<u64>,
    /// Who made the remote head, as the owner-signed membership log names them.
    pub remote_author: Option<String>,
    /// The environment this one's file holds instead on this machine (`envsync use`);
    /// the badge is then `not_linked` until `envsync use --reset`.
    pub file_holds: Option<String>,
}

impl From<envsync_client::engine::StatusRow> for EnvironmentStatus {
    fn from(row: envsync_client::engine::StatusRow) -> Self {
        Self {
            project: row.project,
            environment: row.environment,
            file: row.file,
            badge: row.badge,
            action: row.action,
            local_version: row.local_version,
            remote_version: row.remote_version,
            remote_author: row.remote_author,
            file_holds: row.file_holds,
        }
    }
}

#[derive(Serialize, JsonSchema)]
pub struct PendingMember {
    pub project: String,
    pub name: String,
    pub fingerprint: String,
    pub kind: PendingKind,
}

/// Why a key waits for this user.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// Not a member yet: an owner must accept the request.
    Request,
    /// A member whose key this user has not accepted yet.
    NewKey,
}

#[derive(Serialize, JsonSchema)]
pub struct Rotation {
    pub project: String,
    pub environment: String,
    pub key: String,
    /// Who was removed.
    pub removed: String,
    /// The version whose values they could read.
    pub since_version: u64,
}

impl From<StatusReport> for Status {
    fn from(report: StatusReport) -> Self {
        let environments = report.rows.into_iter().map(EnvironmentStatus::from);
        let pending = report.pending.into_iter().map(|pending| PendingMember {
            project: pending.project,
            name: pending.name,
            fingerprint: pending.fingerprint,
            kind: if pending.kind == "request" {
                PendingKind::Request
            } else {
                PendingKind::NewKey
            },
        });
        let rotations = report.rotations.into_iter().map(|rotation| Rotation {
            project: rotation.project,
            environment: rotation.environment,
            key: rotation.key,
            removed: rotation.removed,
            since_version: rotation.since_version,
        });
        Self {
            environments: environments.collect(),
            pending_members: pending.collect(),
            rotations: rotations.collect(),
            current: report.current.into_iter().map(Into::into).collect(),
            publications: report.publications.into_iter().map(Into::into).collect(),
            unrevoked: report
                .unrevoked
                .into_iter()
                .map(|head| UnrevokedHead {
                    project: head.project,
                    environment: head.environment,
                    version: head.version,
                    removed: head.removed,
                })
                .collect(),
        }
    }
}

impl Status {
    /// A line per environment and removed member: the secrets to rotate and the command.
    fn rotations_text(&self, printer: &Printer) {
        let same_removal = |a: &Rotation, b: &Rotation| {
            (&a.project, &a.environment, &a.removed, a.since_version)
                == (&b.project, &b.environment, &b.removed, b.since_version)
        };
        let mut shortened = false;
        for group in self.rotations.chunk_by(same_removal) {
            shortened |= is_shortened(group.len());
            let first = &group[0];
            let place = EnvironmentRef::new(&first.project, &first.environment);
            let keys: Vec<&str> = group.iter().map(|rotation| rotation.key.as_str()).collect();
            let (what, its) = match keys.as_slice() {
                [key] => (key.to_string(), "its value"),
                _ => ("these secrets".to_owned(), "their values"),
            };
            let listed = if keys.len() > 1 {
                format!(": {}", key_list(&keys))
            } else {
                String::new()
            };
            let command = if is_shortened(keys.len()) {
                "KEY…".to_owned()
            } else {
                keys.join(" ")
            };
            printer.data(format!(
                "rotate {what} of {place}: {} was removed and could read {its} \
                 (version {}){listed} — run `envsync rotate {command} --env {}`",
                first.removed, first.since_version, first.environment
            ));
        }
        if shortened {
            printer.note(FULL_LIST_HINT);
        }
    }

    /// Whether any environment is not synced (for `--exit-code`).
    pub fn behind(&self) -> bool {
        self.environments
            .iter()
            .any(|row| row.badge != Badge::Synced)
    }
}

impl Document for Status {
    fn text(&self, printer: &Printer) {
        let version =
            |version: Option<u64>| version.map_or("-".to_owned(), |number| format!("v{number}"));
        let header = [
            "PROJECT",
            "ENVIRONMENT",
            "FILE",
            "STATUS",
            "LOCAL",
            "REMOTE",
            "ACTION",
        ];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        for row in &self.environments {
            rows.push(vec![
                row.project.clone(),
                row.environment.clone(),
                match &row.file_holds {
                    Some(holder) => format!("{} (holds {holder})", row.file),
                    None => row.file.clone(),
                },
                row.badge.label().to_owned(),
                version(row.local_version),
                version(row.remote_version),
                row.action
                    .map(|action| format!("envsync {action}"))
                    .unwrap_or_default(),
            ]);
        }
        for line in table(&rows) {
            printer.data(line);
        }
        for line in self
            .current
            .iter()
            .filter_map(super::CurrentEnvironment::text)
        {
            printer.data(line);
        }
        self.pending_text(printer);
        self.publications_text(printer);
        self.rotations_text(printer);
    }
}

impl Status {
    /// A line per publish target, with the command that brings a stale one up to date.
    fn publications_text(&self, printer: &Printer) {
        for target in &self.publications {
            let place = EnvironmentRef::new(&target.project, &target.environment);
            let last = match (&target.version, &target.by, &target.time) {
                (Some(version), Some(by), Some(time)) => {
                    format!(": last given v{version} by {by} at {time}")
                }
                _ => String::new(),
            };
            let hint = match target.state {
                PublishState::Current => String::new(),
                _ => format!(
                    " — run `envsync publish --env {} --to {}`",
                    target.environment, target.to
                ),
            };
            printer.data(format!(
                "publish {place} -> {}: {}{last}{hint}",
                target.to,
                target.state.label()
            ));
        }
    }

    fn pending_text(&self, printer: &Printer) {
        if self.pending_members.is_empty() {
            return;
        }
        let count = self.pending_members.len();
        let names: Vec<_> = self
            .pending_members
            .iter()
            .map(|pending| {
                format!(
                    "{} ({}, {})",
                    pending.name, pending.fingerprint, pending.project
                )
            })
            .collect();
        let command = match self.pending_members.as_slice() {
            [only] => format!("envsync members accept {}", only.fingerprint),
            _ => "envsync members accept --all".to_owned(),
        };
        printer.data(format!(
            "{count} member{} waiting for access: {} — run `{command}`",
            if count == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
}

/// Key names added, changed and removed by a version (values are never shown).
#[derive(Serialize, JsonSchema)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl From<ChangeSummary> for Changes {
    fn from(changes: ChangeSummary) -> Self {
        Self {
            added: changes.added,
            removed: changes.removed,
            changed: changes.changed,
        }
    }
}

impl From<KeyChanges> for Changes {
    fn from(changes: KeyChanges) -> Self {
        Self {
            added: changes.added,
            removed: changes.removed,
            changed: changes.changed,
        }
    }
}

impl Changes {
    /// ` (+2 added, ~1 changed)`, or nothing.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.added.len(), "added"),
            (self.changed.len(), "changed"),
            (self.removed.len(), "removed"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// `+ KEY` / `~ KEY` / `- KEY` lines on stdout.
    fn lines(&self, printer: &Printer) {
        if self.is_empty() {
            printer.message("  (no key changes)");
        }
        for key in &self.added {
            printer.data(format!("+ {key}"));
        }
        for key in &self.changed {
            printer.data(format!("~ {key}"));
        }
        for key in &self.removed {
            printer.data(format!("- {key}"));
        }
    }
}

/// `envsync push`, `rollback` and `rotate --json`: the version made, if any.
#[derive(Serialize, JsonSchema)]
pub struct Pushed {
    pub project: String,
    pub environment: String,
    /// `null` when there was nothing to push.
    pub version: Option<u64>,
    pub changes: Changes,
    #[serde(skip)]
    pub said: PushedBy,
}

/// Which command made the version, for its sentence.
pub enum PushedBy {
    /// `file_label`: the linked file, as messages name it.
    Push {
        file_label: String,
    },
    Rollback {
        restores: u64,
    },
    Rotate {
        keys: Vec<String>,
        dismissed: bool,
    },
}

impl Pushed {
    pub fn new(outcome: envsync_client::engine::PushOutcome, said: PushedBy) -> Self {
        Self {
            project: outcome.project,
            environment: outcome.environment,
            version: outcome.version,
            changes: outcome.changes.into(),
            said,
        }
    }
}

impl Document for Pushed {
    fn text(&self, printer: &Printer) {
        let place = EnvironmentRef::new(&self.project, &self.environment);
        let Some(version) = self.version else {
            if let PushedBy::Push { file_label } = &self.said {
                printer.message(format!(
                    "nothing to push: {file_label} is unchanged since the last pull or push"
                ));
            }
            return;
        };
        let summary = self.changes.summary();
        printer.message(match &self.said {
            PushedBy::Push { .. } => format!("pushed version {version} of {place}{summary}"),
            PushedBy::Rollback { restores } => {
                format!("version {version} of {place} restores version {restores}{summary}")
            }
            PushedBy::Rotate { keys, dismissed } => format!(
                "{} {} in version {version} of {place}",
                if *dismissed {
                    "dismissed the rotation of"
                } else {
                    "rotated"
                },
                keys.join(", ")
            ),
        });
    }
}

/// `envsync pull --json`.
#[derive(Serialize, JsonSchema)]
pub struct Pulled {
    pub project: String,
    pub environment: String,
    /// The version the linked file is at; `null` when the environment has none.
    pub version: Option<u64>,
    /// Whether the linked file was (re)written.
    pub updated: bool,
    /// Where the overwritten local content was kept (encrypted to you), with `--force`.
    pub backup: Option<String>,
    /// Who made `version`, as the owner-signed membership log names them.
    pub author: Option<String>,
    #[serde(skip)]
    pub file_label: String,
}

impl Pulled {
    pub fn new(outcome: PullOutcome, target: &Target) -> Self {
        Self {
            project: outcome.project,
            environment: outcome.environment,
            version: outcome.version,
            updated: outcome.updated,
            backup: outcome.backup,
            author: outcome.author,
            file_label: target.file_label.clone(),
        }
    }
}

impl Document for Pulled {
    fn text(&self, printer: &Printer) {
        let place = EnvironmentRef::new(&self.project, &self.environment);
        let file = &self.file_label;
        if let Some(backup) = &self.backup {
            printer.message(format!(
                "kept your previous {file} encrypted to you at {backup}"
            ));
        }
        printer.message(match (self.version, self.updated) {
            (None, _) => format!("{place} has no versions yet; nothing to pull"),
            (Some(version), true) => format!("pulled version {version} of {place} into {file}"),
            (Some(version), false) => format!("{file} is already at version {version} of {place}"),
        });
    }
}

/// `envsync pull --all --json`: every environment of the workspace, each reported.
#[derive(Serialize, JsonSchema)]
pub struct PulledAll {
    pub environments: Vec<PulledOne>,
}

#[derive(Serialize, JsonSchema)]
pub struct PulledOne {
    pub project: String,
    pub environment: String,
    /// The member's role does not cover this environment: it was not pulled.
    pub skipped: bool,
    /// The pull (or, with `--dry-run`, its plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<PullResult>,
    /// Why this environment failed; the others went on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
}

#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PullResult {
    Pulled(Pulled),
    Plan(Plan),
}

impl Document for PulledAll {
    fn text(&self, printer: &Printer) {
        for one in &self.environments {
            if one.skipped {
                printer.note(format!(
                    "skipped {}: your role does not cover it",
                    EnvironmentRef::new(&one.project, &one.environment)
                ));
            }
            match &one.result {
                Some(PullResult::Pulled(pulled)) => pulled.text(printer),
                Some(PullResult::Plan(plan)) => plan.text(printer),
                None => {}
            }
            if let Some(error) = &one.error {
                printer.message(format!("error: {error}"));
            }
        }
    }
}

/// `envsync sync --json`.
#[derive(Serialize, JsonSchema)]
pub struct Synced {
    pub project: String,
    pub environment: String,
    /// The version the workspace is now based on.
    pub version: Option<u64>,
    /// Whether remote changes were merged into the linked file.
    pub pulled: bool,
    /// The version pushed, if local changes were published.
    pub pushed: Option<u64>,
    /// Keys whose conflict was resolved (by flag, `--resolve` or interactively).
    pub resolved: Vec<String>,
    /// Where the local file was kept (encrypted to you) when a resolution discarded a
    /// local edit.
    pub backup: Option<String>,
    #[serde(skip)]
    pub file_label: String,
}

impl Synced {
    pub fn new(outcome: SyncOutcome, target: &Target) -> Self {
        Self {
            project: outcome.project,
            environment: outcome.environment,
            version: outcome.version,
            pulled: outcome.pulled,
            pushed: outcome.pushed,
            resolved: outcome.resolved,
            backup: outcome.backup,
            file_label: target.file_label.clone(),
        }
    }
}

impl Document for Synced {
    fn text(&self, printer: &Printer) {
        let place = EnvironmentRef::new(&self.project, &self.environment);
        if !self.resolved.is_empty() {
            printer.message(format!("resolved: {}", self.resolved.join(", ")));
        }
        if let Some(backup) = &self.backup {
            printer.message(format!(
                "kept your file as it was, encrypted to you, at {backup} (`age -d -i` your identity reads it)"
            ));
        }
        printer.message(match (self.pulled, self.pushed, self.version) {
            (true, Some(pushed), _) => {
                format!("merged remote changes and pushed version {pushed} of {place}")
            }
            (false, Some(pushed), _) => format!("pushed version {pushed} of {place}"),
            (true, None, Some(version)) => format!(
                "pulled version {version} of {place} into {}",
                self.file_label
            ),
            (_, None, Some(version)) => format!("{place} is in sync at version {version}"),
            (_, None, None) => {
                format!("{place} has no versions and no local file; nothing to do")
            }
        });
    }
}

/// `--dry-run --json` of pull, push and sync: what would change, by key name.
#[derive(Serialize, JsonSchema)]
pub struct Plan {
    pub project: String,
    pub environment: String,
    /// `pull`, `push`, `merge` (pull, merge, then push if anything is left) or `nothing`.
    pub action: &'static str,
    /// The remote head now.
    pub remote_version: Option<u64>,
    /// How the linked file would change; `null` when it would be left as it is.
    pub file: Option<Changes>,
    /// The version that would be pushed; `null` when nothing would be.
    pub push: Option<PlannedVersion>,
    /// Keys changed differently on both sides that nothing resolves: the real sync would
    /// stop (exit 3) and write nothing.
    pub conflicts: Vec<String>,
    #[serde(skip)]
    pub file_label: String,
}

#[derive(Serialize, JsonSchema)]
pub struct PlannedVersion {
    pub number: u64,
    /// Against the version it would build on.
    pub changes: Changes,
}

impl Plan {
    pub fn new(plan: DryRun, target: &Target) -> Self {
        Self {
            project: plan.project,
            environment: plan.environment,
            action: plan.action,
            remote_version: plan.remote_version,
            file: plan.file.map(Changes::from),
            push: plan.push.map(|push| PlannedVersion {
                number: push.number,
                changes: push.changes.into(),
            }),
            conflicts: plan.conflicts,
            file_label: target.file_label.clone(),
        }
    }
}

impl Document for Plan {
    /// The plan for a person, ending with the reminder that nothing was written.
    fn text(&self, printer: &Printer) {
        let place = EnvironmentRef::new(&self.project, &self.environment);
        let at = self.remote_version.map_or_else(
            || "no versions yet".to_owned(),
            |head| format!("version {head}"),
        );
        match (self.action, &self.file) {
            ("nothing", _) => printer.message(format!(
                "{place} is up to date ({at} on the remote): nothing would change"
            )),
            (action, Some(file)) => {
                let verb = if action == "merge" { "merge" } else { "pull" };
                printer.message(format!(
                    "would {verb} {at} of {place} into {}:",
                    self.file_label
                ));
                file.lines(printer);
            }
            _ => {}
        }
        if let Some(push) = &self.push {
            printer.message(format!("would push version {} of {place}:", push.number));
            push.changes.lines(printer);
        }
        printer.message("dry run: nothing was written");
    }
}

/// `envsync diff --json`.
#[derive(Serialize, JsonSchema)]
pub struct Diff {
    /// The old side, e.g. `production (remote version 4)`.
    pub from: String,
    /// The new side, e.g. `.env (local)`.
    pub to: String,
    pub changes: Vec<KeyChange>,
}

#[derive(Serialize, JsonSchema)]
pub struct KeyChange {
    pub key: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// With `--show-values` only: the old value (`null` when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Option<String>>,
    /// With `--show-values` only: the new value (`null` when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Option<String>>,
}

impl Diff {
    pub fn new(from: String, to: String, diffs: Vec<KeyDiff>, show_values: bool) -> Self {
        let changes = diffs
            .into_iter()
            .map(|diff| KeyChange {
                key: diff.key,
                change: diff.kind,
                old: show_values.then_some(diff.old),
                new: show_values.then_some(diff.new),
            })
            .collect();
        Self { from, to, changes }
    }

    /// How a side of the comparison is named.
    pub fn side(environment: &str, side: DiffSide) -> String {
        match side {
            DiffSide::LocalFile => format!("{environment} (local file)"),
            DiffSide::RemoteHead(version) => format!("{environment} (remote version {version})"),
        }
    }
}

impl Document for Diff {
    fn text(&self, printer: &Printer) {
        printer.message(format!("from {} to {}:", self.from, self.to));
        if self.changes.is_empty() {
            printer.message("no differences");
        }
        for change in &self.changes {
            printer.data(change.line());
        }
    }
}

impl KeyChange {
    fn line(&self) -> String {
        let sign = match self.change {
            "added" => '+',
            "removed" => '-',
            _ => '~',
        };
        let key = &self.key;
        let (Some(old), Some(new)) = (&self.old, &self.new) else {
            return format!("{sign} {key}");
        };
        match (old, new) {
            (Some(old), Some(new)) => format!("{sign} {key}: {old} -> {new}"),
            (None, Some(new)) => format!("{sign} {key}: {new}"),
            (Some(old), None) => format!("{sign} {key}: {old}"),
            (None, None) => format!("{sign} {key}"),
        }
    }
}
