//! Pending invitations: accounts that redeemed an invite and wait for an owner to admit
//! their key in the signed membership log. A pending account holds no role; the row only
//! lets it read the log and file its access request, and tells owners who is waiting.
//! Also the stored signed invites, and which environments a project has.

use super::transaction::Transaction;
use super::{Account, Result, Store};

impl Store {
    /// Projects on which `account` waits to be admitted, by name.
    pub async fn pending_projects(&self, account: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT project FROM pending_invitations WHERE account = $1 ORDER BY project",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))
    }

    pub async fn is_pending(&self, account: &str, project: &str) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pending_invitations WHERE account = $1 AND project = $2",
        )
        .bind(account)
        .bind(project)
        .fetch_one(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(count > 0)
    }

    /// The accounts waiting on `project`, by account id.
    pub async fn project_pending(&self, project: &str) -> Result<Vec<Account>> {
        let rows: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT a.id, a.name, a.member_key, a.admin \
             FROM pending_invitations p JOIN accounts a ON a.id = p.account \
             WHERE p.project = $1 ORDER BY a.id",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(rows
            .into_iter()
            .map(|(id, name, member_key, admin)| Account {
                id,
                name,
                member_key,
                admin: admin != 0,
            })
            .collect())
    }

    /// The owner-signed invite stored with the code of this hash, as its JSON.
    pub async fn signed_invite(&self, project: &str, code_hash: &str) -> Result<Option<String>> {
        let found: Option<Option<String>> = sqlx::query_scalar(
            "SELECT signed_json FROM invites WHERE project = $1 AND code_hash = $2",
        )
        .bind(project)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(found.flatten())
    }

    /// One stored access request's JSON.
    pub async fn access_request(
        &self,
        project: &str,
        fingerprint: &str,
    ) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar(
            "SELECT record_json FROM access_requests WHERE project = $1 AND fingerprint = $2",
        )
        .bind(project)
        .bind(fingerprint)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))
    }

    /// The project's environments that have at least one version, sorted.
    pub async fn environments(&self, project: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT environment FROM versions WHERE project = $1 ORDER BY environment",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))
    }
}

impl Transaction<'_> {
    /// Records that `account` redeemed an invite to `project` and waits for an owner. A
    /// second invite to the same project replaces the first.
    pub async fn add_pending(
        &mut self,
        account: &str,
        project: &str,
        code_hash: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO pending_invitations (account, project, code_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account, project) \
             DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at",
        )
        .bind(account)
        .bind(project)
        .bind(code_hash)
        .bind(at)
        .execute(&mut *self.inner)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// Ends `account`'s wait on `project`: an owner admitted, removed or declined it.
    pub async fn clear_pending(&mut self, account: &str, project: &str) -> Result<bool> {
        let result =
            sqlx::query("DELETE FROM pending_invitations WHERE account = $1 AND project = $2")
                .bind(account)
                .bind(project)
                .execute(&mut *self.inner)
                .await
                .map_err(|source| self.query_error(source))?;
        Ok(result.rows_affected() == 1)
    }
}
