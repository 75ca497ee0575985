//! Publication records (`envsync publish`): signed JSON the server keeps, create-only at
//! their number per environment; clients verify them as they verify everything else.

use super::transaction::Transaction;
use super::{Result, Store, to_i64};

impl Store {
    /// The environment's publication records, oldest first.
    pub async fn publications(&self, project: &str, environment: &str) -> Result<Vec<Vec<u8>>> {
        sqlx::query_scalar(
            "SELECT record_json FROM publications \
             WHERE project = $1 AND environment = $2 ORDER BY number",
        )
        .bind(project)
        .bind(environment)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))
    }
}

impl Transaction<'_> {
    /// Stores a record at `number` if that number is free; `false` when another write took
    /// it first. Records are never replaced, so one cannot be rewritten after the fact.
    pub async fn append_publication(
        &mut self,
        project: &str,
        environment: &str,
        number: u64,
        record_json: &[u8],
    ) -> Result<bool> {
        let number = to_i64("publication number", number)?;
        let result = sqlx::query(
            "INSERT INTO publications (project, environment, number, record_json) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (project, environment, number) DO NOTHING",
        )
        .bind(project)
        .bind(environment)
        .bind(number)
        .bind(record_json)
        .execute(&mut *self.inner)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(result.rows_affected() == 1)
    }
}
