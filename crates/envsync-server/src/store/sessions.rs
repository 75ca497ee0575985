//! The web dashboard's sessions and single-use sign-in codes. Like tokens, only hashes of
//! the secrets are stored: a copy of the database opens no session. The lookup key is the
//! SHA-256 of a 256-bit random secret, so how long a lookup takes says nothing about it.

use sqlx::Row;

use super::{Result, Store};

/// A session to store; `session_hash` is the hex SHA-256 of the cookie's value.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub session_hash: &'a str,
    /// The personal access token the session acts as: revoking it ends the session.
    pub token_id: &'a str,
    pub csrf_token: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A live session: the token it acts as and the CSRF token its page must send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

impl Store {
    /// Stores a session, and sweeps the expired ones (and spent sign-in codes).
    pub async fn create_session(&self, session: &NewSession<'_>) -> Result<()> {
        let error = |source| self.query_error(source);
        sqlx::query(
            "INSERT INTO dashboard_sessions \
             (session_hash, token_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.session_hash)
        .bind(session.token_id)
        .bind(session.csrf_token)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await
        .map_err(error)?;
        for table in ["dashboard_sessions", "dashboard_sign_in_codes"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
                .bind(session.created_at)
                .execute(&self.pool)
                .await
                .map_err(error)?;
        }
        Ok(())
    }

    /// The session whose cookie hashes to `session_hash`, if it has not expired at `now`.
    pub async fn live_session(&self, session_hash: &str, now: i64) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT token_id, csrf_token, expires_at FROM dashboard_sessions \
             WHERE session_hash = $1 AND expires_at > $2",
        )
        .bind(session_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        row.map(|row| {
            let read = |source| self.query_error(source);
            Ok(Session {
                token_id: row.try_get("token_id").map_err(read)?,
                csrf_token: row.try_get("csrf_token").map_err(read)?,
                expires_at: row.try_get("expires_at").map_err(read)?,
            })
        })
        .transpose()
    }

    /// Ends a session (sign-out); `false` if there was none.
    pub async fn delete_session(&self, session_hash: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM dashboard_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(result.rows_affected() == 1)
    }

    /// Stores a single-use sign-in code for the token `token_id`, valid until `expires_at`.
    pub async fn create_sign_in_code(
        &self,
        code_hash: &str,
        token_id: &str,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO dashboard_sign_in_codes (code_hash, token_id, expires_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(code_hash)
        .bind(token_id)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// Spends the sign-in code hashing to `code_hash`: the token it was made for, once, if
    /// it has not expired at `now`. One statement, so two browsers racing get one session.
    pub async fn redeem_sign_in_code(&self, code_hash: &str, now: i64) -> Result<Option<String>> {
        let row = sqlx::query(
            "DELETE FROM dashboard_sign_in_codes WHERE code_hash = $1 \
             RETURNING token_id, expires_at",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = |source| self.query_error(source);
        let expires_at: i64 = row.try_get("expires_at").map_err(read)?;
        let token_id: String = row.try_get("token_id").map_err(read)?;
        Ok((expires_at > now).then_some(token_id))
    }
}
