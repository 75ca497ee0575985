use serde::Serialize;

use super::{Publication, Session};
use crate::error::{ClientError, Result};
use crate::records::{ChangeSummary, VersionRecord};
use crate::workspace::Target;

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub version: u64,
    /// The author's name as the membership log (signed by owners) records it for their
    /// key, never the name the author wrote into their own record.
    pub author: String,
    pub fingerprint: String,
    pub time: String,
    pub message: String,
    pub changes: ChangeSummary,
    /// Versions an owner's supersede voided, skipped by this one's history.
    pub supersedes: Option<Vec<u64>>,
    /// Where this version was published (`envsync publish`), oldest first.
    pub published: Vec<Publication>,
    /// The digest of the version's record, which a publication names.
    #[serde(skip)]
    digest: String,
}

impl Session {
    /// `envsync log`: the history from the verified head back to version 1, newest first,
    /// every record and link verified. Voided versions are not part of it.
    pub fn log(&mut self, target: &Target) -> Result<Vec<LogEntry>> {
        let view = self.project_view(&target.project)?;
        let Some(head) = self.verified_head(&view, target)? else {
            return Ok(Vec::new());
        };
        let mut entries = Vec::new();
        let mut current = head;
        loop {
            let (name, fingerprint) = view.author_of(&current).unwrap_or_default();
            entries.push(entry(&current, name, fingerprint));
            let Some(base) = current.body.base else {
                break;
            };
            current = self.walk_back(&view, target, &current, base)?;
        }
        for publication in self.believed_publications(&view, target)? {
            let version = &publication.version;
            if let Some(entry) = entries
                .iter_mut()
                .find(|entry| entry.version == version.number && entry.digest == version.digest)
            {
                entry.published.push(publication);
            }
        }
        if current.body.number != 1 && !current.body.supersedes() {
            return Err(ClientError::Integrity(format!(
                "version {} of {target} claims no parent: the history was tampered with",
                current.body.number
            )));
        }
        Ok(entries)
    }
}

fn entry(record: &VersionRecord, author: String, fingerprint: String) -> LogEntry {
    let body = &record.body;
    let skipped = body.base.map_or(1, |base| base + 1);
    LogEntry {
        version: body.number,
        author,
        fingerprint,
        time: body.created_at.clone(),
        message: body.message.clone(),
        changes: body.changes.clone(),
        supersedes: body.supersedes().then(|| (skipped..body.number).collect()),
        published: Vec::new(),
        digest: record.digest(),
    }
}
