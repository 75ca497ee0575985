//! The lookup behind every authenticated read (`head`, a version's record, a ciphertext):
//! the token, its account, the account's grant on the project and, for `head`, the
//! environment's head, in one query. PostgreSQL is shared by replicas whose writes this
//! process never sees, so it cannot cache any of these; what it can do is ask once instead
//! of three times, and once for all the reads that arrive together (`read_batch`). The
//! answer is read in one statement, so it is one consistent moment of the database, taken
//! after the request arrived: a revocation or a push committed by any replica before it is
//! seen.
//!
//! With the read cache (SQLite, owned by this process) the same answer comes from the
//! cached lookups, which this process's own writes keep exact.

use envsync_api::{Grant, TokenInfo, TokenKind};
use sqlx::Row;
use sqlx::any::AnyRow;

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

/// Many reads at once: the same, for each object of the JSON array `$1` (`i`, the read's
/// place in the batch, then `id`, `now`, `project` and `environment`, `null` for no head).
/// PostgreSQL only, as only PostgreSQL batches (see `read_batch`).
const BATCH: &str = "\
    SELECT r.i, t.token_hash, t.id, t.label, t.kind, t.account, t.project, t.environment, \
           t.created_at, t.expires_at, t.revoked_at, a.name, a.member_key, a.admin, \
           g.role, g.environments, \
           CASE WHEN r.environment IS NULL THEN NULL ELSE \
             (SELECT MAX(v.number) FROM versions v \
              WHERE v.project = r.project AND v.environment = r.environment) END AS head \
    FROM json_to_recordset($1::json) \
         AS r(i BIGINT, id TEXT, now BIGINT, project TEXT, environment TEXT) \
    JOIN tokens t ON t.id = r.id JOIN accounts a ON a.id = t.account \
    LEFT JOIN grants g ON g.account = t.account AND g.project = r.project \
    WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > r.now)";

/// One authenticated read's question: the token's public id, the time its life is judged
/// at (unix seconds), the project read and, for `head`, the environment whose head is read.
#[derive(Clone, serde::Serialize)]
pub struct ReadRequest {
    pub id: String,
    pub now: i64,
    pub project: String,
    #[serde(rename = "environment")]
    pub head_of: Option<String>,
}

impl Store {
    /// The live token with public id `id` (not revoked, not expired at `now`), its account,
    /// the account's grant on `project` and, with `head_of`, that environment's head; `None`
    /// for no such live token. One query on a database without the read cache; on
    /// PostgreSQL, reads that arrive together share it (see `read_batch`).
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
        let request = ReadRequest {
            id: id.to_owned(),
            now,
            project: project.to_owned(),
            head_of: head_of.map(str::to_owned),
        };
        if let Some(batcher) = &self.read_batcher
            && let Some(answer) = batcher.read(request.clone()).await
        {
            return answer;
        }
        self.read_access_alone(&request).await
    }

    /// [`Self::authenticate_read`] in a statement of its own (prepared: sqlx keeps each
    /// connection's statements).
    pub(super) async fn read_access_alone(
        &self,
        request: &ReadRequest,
    ) -> Result<Option<ReadAccess>> {
        let query = match &request.head_of {
            Some(environment) => sqlx::query(WITH_HEAD)
                .bind(&request.id)
                .bind(request.now)
                .bind(&request.project)
                .bind(environment),
            None => sqlx::query(WITHOUT_HEAD)
                .bind(&request.id)
                .bind(request.now)
                .bind(&request.project),
        };
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        row.map(|row| self.read_access_from(&row, request))
            .transpose()
    }

    /// [`Self::authenticate_read`] for each of `requests` in one statement (PostgreSQL
    /// only): the answers in the requests' order. A row that does not decode fails its own
    /// read only; the outer error is the statement's.
    pub async fn authenticate_reads(
        &self,
        requests: &[ReadRequest],
    ) -> Result<Vec<Result<Option<ReadAccess>>>> {
        let batch: Vec<serde_json::Value> = requests
            .iter()
            .enumerate()
            .map(|(place, request)| {
                let mut object = serde_json::json!(request);
                object["i"] = serde_json::json!(place);
                object
            })
            .collect();
        let rows = sqlx::query(BATCH)
            .bind(serde_json::Value::Array(batch).to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        let mut answers: Vec<Result<Option<ReadAccess>>> =
            requests.iter().map(|_| Ok(None)).collect();
        for row in rows {
            let place: i64 = row
                .try_get("i")
                .map_err(|source| self.query_error(source))?;
            let at = usize::try_from(place)
                .ok()
                .filter(|at| *at < requests.len())
                .ok_or_else(|| self.corrupt("batch place", place))?;
            answers[at] = self.read_access_from(&row, &requests[at]).map(Some);
        }
        Ok(answers)
    }

    /// A row of one of the statements above, as the answer to `request`.
    fn read_access_from(&self, row: &AnyRow, request: &ReadRequest) -> Result<ReadAccess> {
        let read = |source| self.query_error(source);
        let (token_hash, token, account) = authenticated_from(self, row)?;
        let role: Option<String> = row.try_get("role").map_err(read)?;
        let environments: Option<String> = row.try_get("environments").map_err(read)?;
        let grant = role
            .map(|role| self.decode_grant(request.project.clone(), &role, environments.as_deref()))
            .transpose()?;
        let head = match request.head_of {
            Some(_) => row.try_get::<Option<i64>, _>("head").map_err(read)?,
            None => None,
        };
        Ok(ReadAccess {
            token_hash,
            token,
            account,
            grant,
            head: head
                .map(|number| self.to_u64("version number", number))
                .transpose()?,
        })
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
