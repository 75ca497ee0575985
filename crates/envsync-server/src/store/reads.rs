//! The lookup behind every authenticated read (`head`, a version's record, a ciphertext):
//! the token, its account, the account's grant on the project and, for `head`, the
//! environment's head, in one query. PostgreSQL is shared by replicas whose writes this
//! process never sees, so it cannot cache any of these; what it can do is ask once instead
//! of three times. The answer is read in one statement, so it is one consistent moment of
//! the database: a revocation or a push committed by any replica before it is seen.
//!
//! With the read cache (SQLite, owned by this process) the same answer comes from the
//! cached lookups, which this process's own writes keep exact.

use envsync_api::{Grant, TokenInfo, TokenKind};
use sqlx::Row;

use super::tokens::authenticated_from;
use super::{Account, Result, Store};

/// What one authenticated read needs, as the database held it at one moment.
pub struct ReadAccess {
    /// The stored hash, for the caller to compare with the presented token's in constant
    /// time.
    pub token_hash: String,
    pub token: TokenInfo,
    pub account: Account,
    /// The account's grant row on the project. A CI token's reach is its token's own.
    pub grant: Option<Grant>,
    /// The environment's head, when asked for. It is read whatever the grant says: the
    /// caller shows it only once the access check has passed.
    pub head: Option<u64>,
}

/// Token, account and grant. `$1` token id, `$2` now, `$3` project.
const WITHOUT_HEAD: &str = "\
    SELECT t.token_hash, t.id, t.label, t.kind, t.account, t.project, t.environment, \
           t.created_at, t.expires_at, t.revoked_at, a.name, a.member_key, a.admin, \
           g.role, g.environments \
    FROM tokens t JOIN accounts a ON a.id = t.account \
    LEFT JOIN grants g ON g.account = t.account AND g.project = $3 \
    WHERE t.id = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)";

/// The same and the head of environment `$4`.
const WITH_HEAD: &str = "\
    SELECT t.token_hash, t.id, t.label, t.kind, t.account, t.project, t.environment, \
           t.created_at, t.expires_at, t.revoked_at, a.name, a.member_key, a.admin, \
           g.role, g.environments, \
           (SELECT MAX(v.number) FROM versions v \
            WHERE v.project = $3 AND v.environment = $4) AS head \
    FROM tokens t JOIN accounts a ON a.id = t.account \
    LEFT JOIN grants g ON g.account = t.account AND g.project = $3 \
    WHERE t.id = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)";

impl Store {
    /// The live token with public id `id` (not revoked, not expired at `now`), its account,
    /// the account's grant on `project` and, with `head_of`, that environment's head; `None`
    /// for no such live token. One query (a prepared statement: sqlx keeps each connection's
    /// statements) on a database without the read cache.
    pub async fn authenticate_read(
        &self,
        id: &str,
        now: i64,
        project: &str,
        head_of: Option<&str>,
    ) -> Result<Option<ReadAccess>> {
        if self.cache.is_some() {
            return self.read_access_cached(id, now, project, head_of).await;
        }
        let query = match head_of {
            Some(environment) => sqlx::query(WITH_HEAD)
                .bind(id)
                .bind(now)
                .bind(project)
                .bind(environment),
            None => sqlx::query(WITHOUT_HEAD).bind(id).bind(now).bind(project),
        };
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        let Some(row) = row else { return Ok(None) };
        let read = |source| self.query_error(source);
        let (token_hash, token, account) = authenticated_from(self, &row)?;
        let role: Option<String> = row.try_get("role").map_err(read)?;
        let environments: Option<String> = row.try_get("environments").map_err(read)?;
        let grant = role
            .map(|role| self.decode_grant(project.to_owned(), &role, environments.as_deref()))
            .transpose()?;
        let head = match head_of {
            Some(_) => row.try_get::<Option<i64>, _>("head").map_err(read)?,
            None => None,
        };
        Ok(Some(ReadAccess {
            token_hash,
            token,
            account,
            grant,
            head: head
                .map(|number| self.to_u64("version number", number))
                .transpose()?,
        }))
    }

    /// [`Self::authenticate_read`] from the read cache. The head is looked up only for a
    /// caller who may be shown it, so strangers cannot fill the cache with guessed names.
    async fn read_access_cached(
        &self,
        id: &str,
        now: i64,
        project: &str,
        head_of: Option<&str>,
    ) -> Result<Option<ReadAccess>> {
        let Some((token_hash, token, account)) = self.authenticate(id, now).await? else {
            return Ok(None);
        };
        let ci = token.kind == TokenKind::Ci;
        let grant = match ci {
            true => None,
            false => self.grant(&account.id, project).await?,
        };
        let head = match head_of {
            Some(environment) if grant.is_some() || ci => self.head(project, environment).await?,
            _ => None,
        };
        Ok(Some(ReadAccess {
            token_hash,
            token,
            account,
            grant,
            head,
        }))
    }
}
