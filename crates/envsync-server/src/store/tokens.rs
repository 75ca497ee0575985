//! API tokens. Only their hashes are stored: the caller hashes a presented token (SHA-256)
//! and every lookup compares hashes, so a copy of the database grants nothing and no
//! comparison ever touches a token itself.

use envsync_api::{TokenInfo, TokenKind};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::transaction::{Executor, Transaction};
use super::{Account, Result, Store};

/// A token to store. `token_hash` is the hex SHA-256 of the token, computed by the caller.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    /// Public handle to list and revoke the token by.
    pub id: &'a str,
    pub label: &'a str,
    pub kind: TokenKind,
    pub account: &'a str,
    /// CI tokens: the one project and environment they may read.
    pub project: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub created_at: i64,
    /// Unix seconds after which the token is refused; `None` never expires.
    pub expires_at: Option<i64>,
}

/// A token's columns, read by name so that one function serves every query that selects
/// them (plus whatever else the query selects). The kind is decoded here and a row whose
/// kind is not one is an error: nothing above guesses what a corrupt token may do.
fn token_from(store: &Store, row: &AnyRow) -> Result<TokenInfo> {
    let read = |source| store.query_error(source);
    let kind: String = row.try_get("kind").map_err(read)?;
    Ok(TokenInfo {
        kind: kind
            .parse()
            .map_err(|detail| store.corrupt_row("token kind", detail))?,
        id: row.try_get("id").map_err(read)?,
        label: row.try_get("label").map_err(read)?,
        account: row.try_get("account").map_err(read)?,
        project: row.try_get("project").map_err(read)?,
        environment: row.try_get("environment").map_err(read)?,
        created_at: row.try_get("created_at").map_err(read)?,
        expires_at: row.try_get("expires_at").map_err(read)?,
        revoked_at: row.try_get("revoked_at").map_err(read)?,
    })
}

/// A stored hash, its token and the account it belongs to, from a query that selected
/// `token_hash`, the token's columns and the account's `name`, `member_key` and `admin`.
pub(super) fn authenticated_from(
    store: &Store,
    row: &AnyRow,
) -> Result<(String, TokenInfo, Account)> {
    let token = token_from(store, row)?;
    let read = |source| store.query_error(source);
    let account = Account {
        id: token.account.clone(),
        name: row.try_get("name").map_err(read)?,
        member_key: row.try_get("member_key").map_err(read)?,
        admin: row.try_get::<i64, _>("admin").map_err(read)? != 0,
    };
    Ok((row.try_get("token_hash").map_err(read)?, token, account))
}

const COLUMNS: &str =
    "id, label, kind, account, project, environment, created_at, expires_at, revoked_at";

impl Store {
    pub async fn create_token(&self, token: &NewToken<'_>) -> Result<()> {
        insert_token(&self.pool, token)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// The live token with this public id, not revoked and not expired at `now` (unix
    /// seconds), with its stored hash for the caller to compare in constant time.
    pub async fn live_token(&self, id: &str, now: i64) -> Result<Option<(String, TokenInfo)>> {
        let row = sqlx::query(&format!(
            "SELECT token_hash, {COLUMNS} FROM tokens WHERE id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        row.map(|row| {
            let hash = row
                .try_get("token_hash")
                .map_err(|source| self.query_error(source))?;
            Ok((hash, token_from(self, &row)?))
        })
        .transpose()
    }

    /// [`Self::live_token`] and the account it belongs to, in one query: this runs on
    /// every authenticated request.
    pub async fn authenticate(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<(String, TokenInfo, Account)>> {
        if let Some(cache) = &self.cache
            && let Some(found) = cache.tokens().get(&id.to_owned())
        {
            // Revocations go through this store and evict; expiry is checked here.
            if found.1.expires_at.is_none_or(|expires_at| expires_at > now) {
                return Ok(Some(found));
            }
            cache.tokens().forget(&id.to_owned());
            return Ok(None);
        }
        let generation = self.cache.as_ref().map(|cache| cache.tokens().generation());
        let row = sqlx::query(
            "SELECT t.token_hash, t.id, t.label, t.kind, t.account, t.project, t.environment, \
                    t.created_at, t.expires_at, t.revoked_at, \
                    a.name, a.member_key, a.admin \
             FROM tokens t JOIN accounts a ON a.id = t.account \
             WHERE t.id = $1 AND t.revoked_at IS NULL \
               AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        row.map(|row| authenticated_from(self, &row))
            .transpose()
            .inspect(|found| {
                if let (Some(cache), Some(generation), Some(found)) =
                    (&self.cache, generation, found)
                {
                    cache.tokens().put(generation, id.to_owned(), found.clone());
                }
            })
    }

    /// Tokens an account made, plus CI tokens of `projects` (those it owns), revoked ones
    /// included so an owner can see what existed.
    pub async fn tokens_visible_to(
        &self,
        account: &str,
        projects: &[String],
    ) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tokens WHERE account = $1 ORDER BY created_at, id"
        ))
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        let mut tokens = self.tokens_from(&rows)?;
        for project in projects {
            tokens.extend(self.ci_tokens(project).await?);
        }
        tokens.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        tokens.dedup_by(|a, b| a.id == b.id);
        Ok(tokens)
    }

    async fn ci_tokens(&self, project: &str) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM tokens WHERE project = $1 AND kind = 'ci' ORDER BY id"
        ))
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        self.tokens_from(&rows)
    }

    fn tokens_from(&self, rows: &[AnyRow]) -> Result<Vec<TokenInfo>> {
        rows.iter().map(|row| token_from(self, row)).collect()
    }

    pub async fn token_by_id(&self, id: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        row.map(|row| token_from(self, &row)).transpose()
    }

    /// Marks a token revoked at `now`; `false` if it did not exist or was already revoked.
    /// The row stays, so the audit log's references to it keep meaning something.
    pub async fn revoke_token(&self, id: &str, now: i64) -> Result<bool> {
        let result =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(|source| self.query_error(source))?;
        if let Some(cache) = &self.cache {
            cache.tokens().forget(&id.to_owned());
        }
        Ok(result.rows_affected() == 1)
    }

    /// Revokes an account's CI tokens for one project: its member was removed.
    pub async fn revoke_ci_tokens(&self, account: &str, project: &str, now: i64) -> Result<u64> {
        let revoked = revoke_ci(&self.pool, account, project, now)
            .await
            .map_err(|source| self.query_error(source))?;
        if let Some(cache) = &self.cache {
            cache.tokens().clear();
        }
        Ok(revoked)
    }
}

impl Transaction<'_> {
    pub async fn create_token(&mut self, token: &NewToken<'_>) -> Result<()> {
        insert_token(&mut *self.inner, token)
            .await
            .map_err(|source| self.query_error(source))
    }

    pub async fn revoke_ci_tokens(
        &mut self,
        account: &str,
        project: &str,
        now: i64,
    ) -> Result<u64> {
        let revoked = revoke_ci(&mut *self.inner, account, project, now)
            .await
            .map_err(|source| self.query_error(source))?;
        self.stale_tokens = true;
        Ok(revoked)
    }
}

async fn insert_token<'c>(
    executor: impl Executor<'c>,
    token: &NewToken<'_>,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tokens (token_hash, id, label, kind, account, project, environment, \
                             created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.token_hash)
    .bind(token.id)
    .bind(token.label)
    .bind(token.kind.as_str())
    .bind(token.account)
    .bind(token.project)
    .bind(token.environment)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(executor)
    .await?;
    Ok(())
}

async fn revoke_ci<'c>(
    executor: impl Executor<'c>,
    account: &str,
    project: &str,
    now: i64,
) -> std::result::Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tokens SET revoked_at = $3 \
         WHERE account = $1 AND project = $2 AND kind = 'ci' AND revoked_at IS NULL",
    )
    .bind(account)
    .bind(project)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}
