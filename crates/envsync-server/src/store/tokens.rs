//! API tokens. Only their hashes are stored: the caller hashes a presented token (SHA-256)
//! and every lookup compares hashes, so a copy of the database grants nothing and no
//! comparison ever touches a token itself.

use super::{Result, Store};

/// A token to store. `token_hash` is the hex SHA-256 of the token, computed by the caller.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub account: &'a str,
    pub project: &'a str,
    pub role: &'a str,
    /// `None`: every environment of the project. CI tokens name one.
    pub environment: Option<&'a str>,
    /// The member key the token acts for, when it belongs to a member.
    pub member_key: Option<&'a str>,
    /// Unix seconds after which the token is refused; `None` never expires.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token_hash: String,
    pub account: String,
    pub project: String,
    pub role: String,
    pub environment: Option<String>,
    pub member_key: Option<String>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

type TokenRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

impl From<TokenRow> for TokenRecord {
    fn from(row: TokenRow) -> Self {
        let (token_hash, account, project, role, environment, member_key, expires_at, revoked_at) =
            row;
        Self {
            token_hash,
            account,
            project,
            role,
            environment,
            member_key,
            expires_at,
            revoked_at,
        }
    }
}

const COLUMNS: &str =
    "token_hash, account, project, role, environment, member_key, expires_at, revoked_at";

impl Store {
    pub async fn create_token(&self, token: &NewToken<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO tokens (token_hash, account, project, role, environment, member_key, \
                                 expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.token_hash)
        .bind(token.account)
        .bind(token.project)
        .bind(token.role)
        .bind(token.environment)
        .bind(token.member_key)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// The live token with this hash: not revoked and not expired at `now` (unix seconds).
    pub async fn token(&self, token_hash: &str, now: i64) -> Result<Option<TokenRecord>> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(row.map(TokenRecord::from))
    }

    /// Every token of a project, revoked ones included, so an owner can see what existed.
    pub async fn tokens(&self, project: &str) -> Result<Vec<TokenRecord>> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM tokens WHERE project = $1 ORDER BY account, token_hash"
        ))
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(rows.into_iter().map(TokenRecord::from).collect())
    }

    /// Marks a token revoked at `now`; `false` if it did not exist or was already revoked.
    /// The row stays, so the audit log's references to it keep meaning something.
    pub async fn revoke_token(&self, token_hash: &str, now: i64) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(result.rows_affected() == 1)
    }
}
