//! Writes that must land together or not at all. A join makes an account, redeems a code,
//! issues a token and records the join; a membership event changes grants and revokes CI
//! tokens. Done one by one, a failure midway (a lost connection, a full disk) would leave
//! half of it: a used invite with no account, an account with no token, a removed member
//! still holding a role. A [`Transaction`] commits all of one change, or nothing.
//!
//! Each write's SQL is written once, as a function over any executor, and both the pool
//! (a write on its own) and a transaction run it.

use sqlx::Any;

use super::{Result, Store};

/// Anything a query can run on: the pool, or one transaction's connection.
pub(super) trait Executor<'c>: sqlx::Executor<'c, Database = Any> {}

impl<'c, T: sqlx::Executor<'c, Database = Any>> Executor<'c> for T {}

/// An open database transaction. Dropped without [`Transaction::commit`], it rolls back.
pub struct Transaction<'s> {
    pub(super) store: &'s Store,
    pub(super) inner: sqlx::Transaction<'static, Any>,
    /// Read-cache entries to evict once the change is visible (after the commit): evicting
    /// earlier would let a reader cache the old row again before the commit.
    pub(super) stale_grants: Vec<(String, String)>,
    pub(super) stale_tokens: bool,
}

impl Store {
    /// Begins a transaction. Its first statement should be a write: SQLite then takes the
    /// write lock at once (waiting its busy timeout), instead of failing to upgrade a read
    /// lock midway.
    pub async fn begin(&self) -> Result<Transaction<'_>> {
        let inner = self
            .pool
            .begin()
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(Transaction {
            store: self,
            inner,
            stale_grants: Vec::new(),
            stale_tokens: false,
        })
    }
}

impl Transaction<'_> {
    /// Makes every write of the transaction visible at once.
    pub async fn commit(self) -> Result<()> {
        let Self {
            store,
            inner,
            stale_grants,
            stale_tokens,
        } = self;
        inner
            .commit()
            .await
            .map_err(|source| store.query_error(source))?;
        for (account, project) in stale_grants {
            store.forget_grant(&account, &project);
        }
        if stale_tokens && let Some(cache) = &store.cache {
            cache.tokens().clear();
        }
        Ok(())
    }

    pub(super) fn query_error(&self, source: sqlx::Error) -> super::StoreError {
        self.store.query_error(source)
    }
}
