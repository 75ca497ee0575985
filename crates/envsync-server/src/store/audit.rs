//! The audit log: who did what to which project, from where and when. Append-only; paged by
//! id, which only grows, so a page boundary never skips or repeats an entry.

use envsync_api::AuditEntry;

use super::transaction::{Executor, Transaction};
use super::{Result, Store};

/// An event to record; stored, it reads back as an [`AuditEntry`] with its id. The caller
/// supplies the time so that one request's entries agree.
#[derive(Debug, Clone, Copy)]
pub struct NewAuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    /// `None` for events outside any project, e.g. a failed sign-in.
    pub project: Option<&'a str>,
    pub target: &'a str,
    pub source_address: Option<&'a str>,
    /// Unix seconds.
    pub at: i64,
}

/// A [`NewAuditEntry`] that a write's own task owns (a version's insert runs in one, so it
/// finishes even when its request is dropped).
pub(super) struct OwnedAuditEntry {
    actor: String,
    action: String,
    project: Option<String>,
    target: String,
    source_address: Option<String>,
    at: i64,
}

impl OwnedAuditEntry {
    pub(super) fn new(entry: &NewAuditEntry<'_>) -> Self {
        Self {
            actor: entry.actor.to_owned(),
            action: entry.action.to_owned(),
            project: entry.project.map(str::to_owned),
            target: entry.target.to_owned(),
            source_address: entry.source_address.map(str::to_owned),
            at: entry.at,
        }
    }

    pub(super) fn entry(&self) -> NewAuditEntry<'_> {
        NewAuditEntry {
            actor: &self.actor,
            action: &self.action,
            project: self.project.as_deref(),
            target: &self.target,
            source_address: self.source_address.as_deref(),
            at: self.at,
        }
    }
}

/// Which entries [`Store::audit`] returns; `None` fields match everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    pub project: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub action: Option<&'a str>,
    /// Only entries with a larger id: the last id of the previous page.
    pub after_id: i64,
    /// Only entries at or after this time (unix seconds).
    pub since: Option<i64>,
    /// Only entries before this time (unix seconds).
    pub until: Option<i64>,
    pub limit: u32,
}

type AuditRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

impl Store {
    /// Records an event and returns its id.
    pub async fn append_audit(&self, entry: &NewAuditEntry<'_>) -> Result<i64> {
        insert(&self.pool, entry)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// One page of matching entries, oldest first.
    pub async fn audit(&self, filter: &AuditFilter<'_>) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor, action, project, target, source_address FROM audit \
             WHERE id > $1 \
               AND ($2 IS NULL OR project = $2) \
               AND ($3 IS NULL OR actor = $3) \
               AND ($4 IS NULL OR action = $4) \
               AND ($6 IS NULL OR at >= $6) \
               AND ($7 IS NULL OR at < $7) \
             ORDER BY id LIMIT $5",
        )
        .bind(filter.after_id)
        .bind(filter.project)
        .bind(filter.actor)
        .bind(filter.action)
        .bind(i64::from(filter.limit))
        .bind(filter.since)
        .bind(filter.until)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, actor, action, project, target, source_address)| AuditEntry {
                    id,
                    at,
                    actor,
                    action,
                    project,
                    target,
                    source_address,
                },
            )
            .collect())
    }
}

impl Transaction<'_> {
    /// Records an event as part of the change it describes.
    pub async fn append_audit(&mut self, entry: &NewAuditEntry<'_>) -> Result<i64> {
        insert(&mut *self.inner, entry)
            .await
            .map_err(|source| self.query_error(source))
    }
}

pub(super) async fn insert<'c>(
    executor: impl Executor<'c>,
    entry: &NewAuditEntry<'_>,
) -> std::result::Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO audit (at, actor, action, project, target, source_address) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(entry.at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.project)
    .bind(entry.target)
    .bind(entry.source_address)
    .fetch_one(executor)
    .await
}
