use serde::Serialize;

use super::Session;
use crate::error::Result;
use crate::records::{ChangeSummary, VersionRecord};
use crate::workspace::Target;

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub version: u64,
    pub author: String,
    pub fingerprint: String,
    pub time: String,
    pub message: String,
    pub changes: ChangeSummary,
}

impl Session {
    /// `envsync log`: the whole history, newest first, every record and link verified.
    pub fn log(&mut self, target: &Target) -> Result<Vec<LogEntry>> {
        let view = self.project_view(&target.project)?;
        let Some(head) = self.remote.head(&target.project, &target.environment)? else {
            return Ok(Vec::new());
        };
        let mut entries = Vec::with_capacity(head as usize);
        let mut previous: Option<VersionRecord> = None;
        for number in 1..=head {
            let record = self.fetch_record(&view, target, number, previous.as_ref())?;
            if number == 1 && record.body.parent_digest.is_some() {
                return Err(crate::error::ClientError::Integrity(format!(
                    "version 1 of {}/{} claims a parent: the history was tampered with",
                    target.project, target.environment
                )));
            }
            let fingerprint = view
                .roster
                .find(&record.body.author)
                .map(|member| member.key.fingerprint())
                .unwrap_or_default();
            entries.push(LogEntry {
                version: number,
                author: record.body.author_name.clone(),
                fingerprint,
                time: record.body.created_at.clone(),
                message: record.body.message.clone(),
                changes: record.body.changes.clone(),
            });
            previous = Some(record);
        }
        entries.reverse();
        Ok(entries)
    }
}
