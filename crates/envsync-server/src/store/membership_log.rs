//! The membership log and access requests: signed JSON the server keeps but cannot verify
//! (it does not link the crypto crate); clients verify the chain and the signatures.

use super::transaction::{Executor, Transaction};
use super::{Result, Store, to_i64};

impl Store {
    /// The project's membership log, oldest first.
    pub async fn membership(&self, project: &str) -> Result<Vec<Vec<u8>>> {
        self.membership_after(project, 0).await
    }

    /// Entry `number` of the project's membership log: what a push's pin names. One row,
    /// so a push costs the same however long the log has grown. A number the database
    /// cannot hold names no entry (a client's claim, not a server fault).
    pub async fn membership_entry(&self, project: &str, number: u64) -> Result<Option<Vec<u8>>> {
        let Ok(number) = i64::try_from(number) else {
            return Ok(None);
        };
        sqlx::query_scalar("SELECT record_json FROM membership WHERE project = $1 AND number = $2")
            .bind(project)
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// The entries of the project's membership log numbered above `after`, oldest first:
    /// what a client that verified the entries up to `after` still needs.
    pub async fn membership_after(&self, project: &str, after: u64) -> Result<Vec<Vec<u8>>> {
        let after = to_i64("membership number", after)?;
        sqlx::query_scalar(
            "SELECT record_json FROM membership WHERE project = $1 AND number > $2 \
             ORDER BY number",
        )
        .bind(project)
        .bind(after)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))
    }

    /// [`Transaction::append_membership`] on its own.
    pub async fn append_membership(
        &self,
        project: &str,
        number: u64,
        record_json: &[u8],
    ) -> Result<bool> {
        let number = to_i64("membership number", number)?;
        insert_membership(&self.pool, project, number, record_json)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// Pending access requests of a project as `(fingerprint, record JSON)`, by fingerprint.
    pub async fn access_requests(&self, project: &str) -> Result<Vec<(String, Vec<u8>)>> {
        sqlx::query_as(
            "SELECT fingerprint, record_json FROM access_requests \
             WHERE project = $1 ORDER BY fingerprint",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))
    }

    /// Stores a request, replacing an earlier one from the same key: asking again (say, with
    /// a corrected name) is not an error.
    pub async fn put_access_request(
        &self,
        project: &str,
        fingerprint: &str,
        record_json: &[u8],
    ) -> Result<()> {
        upsert_request(&self.pool, project, fingerprint, record_json)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// Removes a request; `false` if there was none, which callers may treat as done.
    pub async fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<bool> {
        delete_request(&self.pool, project, fingerprint)
            .await
            .map_err(|source| self.query_error(source))
    }
}

impl Transaction<'_> {
    /// Appends an event at `number` if that number is free; `false` when another write took
    /// it first. Events are never replaced: the log is hash-chained, and a replaced event
    /// would break every client's copy of it.
    pub async fn append_membership(
        &mut self,
        project: &str,
        number: u64,
        record_json: &[u8],
    ) -> Result<bool> {
        let number = to_i64("membership number", number)?;
        insert_membership(&mut *self.inner, project, number, record_json)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// [`Store::put_access_request`] as part of a larger change.
    pub async fn put_access_request(
        &mut self,
        project: &str,
        fingerprint: &str,
        record_json: &[u8],
    ) -> Result<()> {
        upsert_request(&mut *self.inner, project, fingerprint, record_json)
            .await
            .map_err(|source| self.query_error(source))
    }

    pub async fn delete_access_request(
        &mut self,
        project: &str,
        fingerprint: &str,
    ) -> Result<bool> {
        delete_request(&mut *self.inner, project, fingerprint)
            .await
            .map_err(|source| self.query_error(source))
    }
}

async fn insert_membership<'c>(
    executor: impl Executor<'c>,
    project: &str,
    number: i64,
    record_json: &[u8],
) -> std::result::Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO membership (project, number, record_json) VALUES ($1, $2, $3) \
         ON CONFLICT (project, number) DO NOTHING",
    )
    .bind(project)
    .bind(number)
    .bind(record_json)
    .execute(executor)
    .await?;
    Ok(result.rows_affected() == 1)
}

async fn delete_request<'c>(
    executor: impl Executor<'c>,
    project: &str,
    fingerprint: &str,
) -> std::result::Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM access_requests WHERE project = $1 AND fingerprint = $2")
        .bind(project)
        .bind(fingerprint)
        .execute(executor)
        .await?;
    Ok(result.rows_affected() == 1)
}

async fn upsert_request<'c>(
    executor: impl Executor<'c>,
    project: &str,
    fingerprint: &str,
    record_json: &[u8],
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO access_requests (project, fingerprint, record_json) VALUES ($1, $2, $3) \
         ON CONFLICT (project, fingerprint) DO UPDATE SET record_json = excluded.record_json",
    )
    .bind(project)
    .bind(fingerprint)
    .bind(record_json)
    .execute(executor)
    .await?;
    Ok(())
}
