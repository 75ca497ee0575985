//! Failed sign-ins per client address, in the database: every replica behind a load
//! balancer counts the same failures, so spreading guesses over replicas gains nothing.
//! A row is one address's current window; windows expire and expired rows are swept.

use super::{Result, Store};

/// How long a window of failures lasts, in seconds.
pub const FAILURE_WINDOW_SECONDS: i64 = 60;
/// Failures within one window after which an address is refused until the window ends.
pub const MAX_FAILURES: i64 = 10;

impl Store {
    /// Counts a failed sign-in from `address` at `now` (unix seconds). One statement, so
    /// failures on several replicas at once all count.
    pub async fn record_sign_in_failure(&self, address: &str, now: i64) -> Result<()> {
        let expired = now - FAILURE_WINDOW_SECONDS;
        // Every SET expression reads the row as it was, in both databases.
        sqlx::query(
            "INSERT INTO sign_in_failures (address, window_start, failures) VALUES ($1, $2, 1) \
             ON CONFLICT (address) DO UPDATE SET \
               failures = CASE WHEN sign_in_failures.window_start <= $3 THEN 1 \
                               ELSE sign_in_failures.failures + 1 END, \
               window_start = CASE WHEN sign_in_failures.window_start <= $3 THEN $2 \
                                   ELSE sign_in_failures.window_start END",
        )
        .bind(address)
        .bind(now)
        .bind(expired)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        sqlx::query("DELETE FROM sign_in_failures WHERE window_start <= $1")
            .bind(expired)
            .execute(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// Whether `address` has failed too often in its current window.
    pub async fn sign_in_blocked(&self, address: &str, now: i64) -> Result<bool> {
        let failures: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM sign_in_failures WHERE address = $1 AND window_start > $2",
        )
        .bind(address)
        .bind(now - FAILURE_WINDOW_SECONDS)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(failures.is_some_and(|count| count >= MAX_FAILURES))
    }
}
