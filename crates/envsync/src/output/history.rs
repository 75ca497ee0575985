//! The documents about what happened: `log`, `audit`, `repair`.

use envsync_api::AuditPage;
use envsync_client::EnvironmentRef;
use envsync_client::engine::{LogEntry, Repaired};
use schemars::JsonSchema;
use serde::Serialize;

use super::sync::Changes;
use super::{Document, format_time};
use crate::printer::{Printer, table};

/// `envsync log --json`.
#[derive(Serialize, JsonSchema)]
pub struct Log {
    /// The environment's versions, newest first.
    pub versions: Vec<Version>,
    /// `project/environment`, for the message when there are no versions.
    #[serde(skip)]
    pub place: String,
}

#[derive(Serialize, JsonSchema)]
pub struct Version {
    pub version: u64,
    /// The author's name as the owner-signed membership log records it for their key.
    pub author: String,
    pub fingerprint: String,
    /// RFC 3339.
    pub time: String,
    pub message: String,
    pub changes: Changes,
    /// Versions an owner's supersede voided, skipped by this one's history.
    pub supersedes: Option<Vec<u64>>,
    /// Where this version was published (`envsync publish`), oldest first, from the
    /// signed publication records that verify.
    pub published: Vec<PublishedTo>,
}

/// One signed publication record of a version.
#[derive(Serialize, JsonSchema)]
pub struct PublishedTo {
    /// The store URL, as envsync.toml writes it.
    pub to: String,
    /// The publisher's name as the owner-signed membership log records it for their key.
    pub by: String,
    pub fingerprint: String,
    /// RFC 3339.
    pub time: String,
    /// The keys the target's filter published.
    pub keys: Vec<String>,
    /// Whether keys the environment lacks were removed from the target (`--prune`).
    pub pruned: bool,
}

impl From<envsync_client::engine::Publication> for PublishedTo {
    fn from(publication: envsync_client::engine::Publication) -> Self {
        Self {
            to: publication.to,
            by: publication.publisher,
            fingerprint: publication.fingerprint,
            time: publication.published_at,
            keys: publication.keys,
            pruned: publication.pruned,
        }
    }
}

impl Log {
    pub fn new(entries: Vec<LogEntry>, place: String) -> Self {
        let versions = entries
            .into_iter()
            .map(|entry| Version {
                version: entry.version,
                author: entry.author,
                fingerprint: entry.fingerprint,
                time: entry.time,
                message: entry.message,
                changes: entry.changes.into(),
                supersedes: entry.supersedes,
                published: entry.published.into_iter().map(Into::into).collect(),
            })
            .collect();
        Self { versions, place }
    }
}

impl Document for Log {
    fn text(&self, printer: &Printer) {
        if self.versions.is_empty() {
            printer.message(format!("{} has no versions yet", self.place));
        }
        for entry in &self.versions {
            printer.data(format!(
                "version {}  {} ({})  {}",
                entry.version, entry.author, entry.fingerprint, entry.time
            ));
            if !entry.message.is_empty() {
                printer.data(format!("    {}", entry.message));
            }
            let changes = &entry.changes;
            let keys = (changes.added.iter().map(|key| format!("+{key}")))
                .chain(changes.changed.iter().map(|key| format!("~{key}")))
                .chain(changes.removed.iter().map(|key| format!("-{key}")))
                .collect::<Vec<_>>();
            if !keys.is_empty() {
                printer.data(format!("    {}", keys.join(" ")));
            }
            for published in &entry.published {
                printer.data(format!(
                    "    published to {} by {} ({})  {}",
                    published.to, published.by, published.fingerprint, published.time
                ));
            }
        }
    }
}

/// `envsync audit --json`: a page of the server's audit log, oldest first.
#[derive(Serialize, JsonSchema)]
pub struct Audit {
    pub entries: Vec<AuditEntry>,
    /// Pass as `--after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}

#[derive(Serialize, JsonSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub project: Option<String>,
    pub target: String,
    pub source_address: Option<String>,
}

impl From<AuditPage> for Audit {
    fn from(page: AuditPage) -> Self {
        let entries = page.entries.into_iter().map(|entry| AuditEntry {
            id: entry.id,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            project: entry.project,
            target: entry.target,
            source_address: entry.source_address,
        });
        Self {
            entries: entries.collect(),
            next_after: page.next_after,
        }
    }
}

impl Document for Audit {
    fn text(&self, printer: &Printer) {
        let header = ["TIME", "ACTOR", "ACTION", "TARGET", "SOURCE"];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        for entry in &self.entries {
            rows.push(vec![
                format_time(entry.at),
                entry.actor.clone(),
                entry.action.clone(),
                entry.target.clone(),
                entry
                    .source_address
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
            ]);
        }
        for line in table(&rows) {
            printer.data(line);
        }
        if let Some(after) = self.next_after {
            printer.message(format!(
                "more entries: run with --all, or --after {after} for the next page"
            ));
        }
    }
}

/// `envsync repair --json`: what was put back on the remote.
#[derive(Serialize, JsonSchema)]
pub struct Repair {
    pub project: String,
    /// Membership entries appended again.
    pub membership: Vec<u64>,
    /// Per environment, the versions created again: `[environment, [numbers]]`.
    pub versions: Vec<(String, Vec<u64>)>,
    /// What could not be put back and why.
    pub missing: Vec<String>,
    /// Environments whose head was still encrypted to a removed member (a removal that
    /// stopped before re-encrypting), re-encrypted to the current readers now.
    pub reencrypted: Vec<String>,
    /// Heads still encrypted to a removed member that only a writer of theirs can
    /// re-encrypt, and why.
    pub unrevoked: Vec<String>,
}

impl From<Repaired> for Repair {
    fn from(repaired: Repaired) -> Self {
        Self {
            project: repaired.project,
            membership: repaired.membership,
            versions: repaired.versions,
            missing: repaired.missing,
            reencrypted: repaired.reencrypted,
            unrevoked: repaired.unrevoked,
        }
    }
}

impl Document for Repair {
    fn text(&self, printer: &Printer) {
        let project = &self.project;
        let list = |numbers: &[u64]| {
            let numbers: Vec<_> = numbers.iter().map(ToString::to_string).collect();
            numbers.join(", ")
        };
        if !self.membership.is_empty() {
            printer.message(format!(
                "put back membership entries {} of project `{project}`",
                list(&self.membership)
            ));
        }
        for (environment, versions) in &self.versions {
            printer.message(format!(
                "put back versions {} of {}",
                list(versions),
                EnvironmentRef::new(project, environment)
            ));
        }
        for missing in &self.missing {
            printer.message(format!(
                "could not put back {missing}: a teammate who pulled it can"
            ));
        }
        for environment in &self.reencrypted {
            printer.message(format!(
                "re-encrypted {} without the members removed from it",
                EnvironmentRef::new(project, environment)
            ));
        }
        for unrevoked in &self.unrevoked {
            printer.message(unrevoked.clone());
        }
        let restored = !self.membership.is_empty()
            || !self.versions.is_empty()
            || !self.reencrypted.is_empty();
        if !restored && self.missing.is_empty() && self.unrevoked.is_empty() {
            printer.message(format!(
                "nothing to repair: the remote holds everything of project `{project}` this machine verified"
            ));
        }
    }
}
