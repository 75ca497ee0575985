//! Accounts, their roles on projects (grants), invites and the owner setup code.
//!
//! The signed membership log that clients verify is the authority on who may decrypt and
//! sign; grants are the server's copy of it for deciding which requests to serve, set by
//! invites and kept in step with the membership events the server stores.

use envsync_api::Grant;
use envsync_core::role::Role;
use sqlx::Row;

use super::transaction::{Executor, Transaction};
use super::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub member_key: Option<String>,
    pub admin: bool,
}

/// An invite as the store keeps it: the API's `NewInvite` once the server has read the
/// signed terms out of it.
#[derive(Debug, Clone, Copy)]
pub struct InviteRow<'a> {
    pub code_hash: &'a str,
    pub project: &'a str,
    pub role: Role,
    pub environments: Option<&'a [String]>,
    pub created_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
    /// The owner-signed invite, `Signed<InviteBody>` JSON.
    pub signed_json: &'a str,
}

/// An environment list as stored: a JSON array of names.
fn encode_environments(environments: Option<&[String]>) -> Option<String> {
    // Serialising strings cannot fail; were it to, an empty list grants least.
    environments.map(|names| serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned()))
}

impl Store {
    /// A grant row as stored (role and environment list as text), decoded or refused: rows
    /// are decoded here, at the store's edge, and nothing above this module ever guesses
    /// what a corrupt role or list meant.
    pub(super) fn decode_grant(
        &self,
        project: String,
        role: &str,
        environments: Option<&str>,
    ) -> Result<Grant> {
        let role = role.parse::<Role>().map_err(|error| {
            self.corrupt_row("grant role", format!("project {project}: {error}"))
        })?;
        let environments = environments
            .map(serde_json::from_str::<Vec<String>>)
            .transpose()
            .map_err(|error| {
                self.corrupt_row(
                    "grant environments",
                    format!("project {project}: not a JSON list of names: {error}"),
                )
            })?;
        Ok(Grant {
            project,
            role,
            environments,
        })
    }
}

/// Writes shared by [`Store`] (a write on its own) and [`Transaction`] (one of several).
mod sql {
    use envsync_core::role::Role;

    use super::Executor;

    pub async fn create_account<'c>(
        executor: impl Executor<'c>,
        id: &str,
        name: &str,
        member_key: &str,
        admin: bool,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO accounts (id, name, member_key, admin, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(member_key)
        .bind(i64::from(admin))
        .bind(now)
        .execute(executor)
        .await?;
        Ok(())
    }

    pub async fn set_grant<'c>(
        executor: impl Executor<'c>,
        account: &str,
        project: &str,
        role: Role,
        environments: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO grants (account, project, role, environments) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, project) \
             DO UPDATE SET role = excluded.role, environments = excluded.environments",
        )
        .bind(account)
        .bind(project)
        .bind(role.as_str())
        .bind(environments)
        .execute(executor)
        .await?;
        Ok(())
    }

    pub async fn delete_grant<'c>(
        executor: impl Executor<'c>,
        account: &str,
        project: &str,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM grants WHERE account = $1 AND project = $2")
            .bind(account)
            .bind(project)
            .execute(executor)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn insert_invite<'c>(
        executor: impl Executor<'c>,
        invite: &super::InviteRow<'_>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO invites (code_hash, project, role, environments, created_by, \
                                  created_at, expires_at, signed_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(invite.code_hash)
        .bind(invite.project)
        .bind(invite.role.as_str())
        .bind(super::encode_environments(invite.environments))
        .bind(invite.created_by)
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .bind(invite.signed_json)
        .execute(executor)
        .await?;
        Ok(())
    }

    /// `(project, role, environments)` of the invite, now marked used.
    pub async fn redeem_invite<'c>(
        executor: impl Executor<'c>,
        code_hash: &str,
        account: &str,
        now: i64,
    ) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
        sqlx::query_as(
            "UPDATE invites SET used_at = $3, used_by = $2 \
             WHERE code_hash = $1 AND used_at IS NULL AND revoked_at IS NULL \
               AND expires_at > $3 \
             RETURNING project, role, environments",
        )
        .bind(code_hash)
        .bind(account)
        .bind(now)
        .fetch_optional(executor)
        .await
    }
}

impl Store {
    pub async fn create_account(
        &self,
        id: &str,
        name: &str,
        member_key: &str,
        admin: bool,
        now: i64,
    ) -> Result<()> {
        sql::create_account(&self.pool, id, name, member_key, admin, now)
            .await
            .map_err(|source| self.query_error(source))
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        self.account_where("id", id).await
    }

    pub async fn account_by_member_key(&self, member_key: &str) -> Result<Option<Account>> {
        self.account_where("member_key", member_key).await
    }

    async fn account_where(&self, column: &str, value: &str) -> Result<Option<Account>> {
        let row: Option<(String, String, Option<String>, i64)> = sqlx::query_as(&format!(
            "SELECT id, name, member_key, admin FROM accounts WHERE {column} = $1"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(row.map(|(id, name, member_key, admin)| Account {
            id,
            name,
            member_key,
            admin: admin != 0,
        }))
    }

    pub async fn has_admin(&self) -> Result<bool> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE admin = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(count > 0)
    }

    pub async fn grants(&self, account: &str) -> Result<Vec<Grant>> {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT project, role, environments FROM grants WHERE account = $1 ORDER BY project",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        rows.into_iter()
            .map(|(project, role, environments)| {
                self.decode_grant(project, &role, environments.as_deref())
            })
            .collect()
    }

    pub async fn grant(&self, account: &str, project: &str) -> Result<Option<Grant>> {
        let key = (account.to_owned(), project.to_owned());
        if let Some(cache) = &self.cache
            && let Some(found) = cache.grants().get(&key)
        {
            return Ok(found);
        }
        let generation = self.cache.as_ref().map(|cache| cache.grants().generation());
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT role, environments FROM grants WHERE account = $1 AND project = $2",
        )
        .bind(account)
        .bind(project)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        let found = row
            .map(|(role, environments)| {
                self.decode_grant(project.to_owned(), &role, environments.as_deref())
            })
            .transpose()?;
        if let (Some(cache), Some(generation)) = (&self.cache, generation) {
            cache.grants().put(generation, key, found.clone());
        }
        Ok(found)
    }

    pub(super) fn forget_grant(&self, account: &str, project: &str) {
        if let Some(cache) = &self.cache {
            cache
                .grants()
                .forget(&(account.to_owned(), project.to_owned()));
        }
    }

    /// Every account with a role on `project`, with its name and member key, by account.
    pub async fn project_grants(&self, project: &str) -> Result<Vec<(Account, Grant)>> {
        let rows = sqlx::query(
            "SELECT a.id, a.name, a.member_key, a.admin, g.role, g.environments \
             FROM grants g JOIN accounts a ON a.id = g.account \
             WHERE g.project = $1 ORDER BY a.id",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        rows.iter()
            .map(|row| {
                let read = |source| self.query_error(source);
                let account = Account {
                    id: row.try_get("id").map_err(read)?,
                    name: row.try_get("name").map_err(read)?,
                    member_key: row.try_get("member_key").map_err(read)?,
                    admin: row.try_get::<i64, _>("admin").map_err(read)? != 0,
                };
                let role: String = row.try_get("role").map_err(read)?;
                let environments: Option<String> = row.try_get("environments").map_err(read)?;
                let grant =
                    self.decode_grant(project.to_owned(), &role, environments.as_deref())?;
                Ok((account, grant))
            })
            .collect()
    }

    /// Sets an account's role on a project, replacing any earlier one.
    pub async fn set_grant(
        &self,
        account: &str,
        project: &str,
        role: Role,
        environments: Option<&[String]>,
    ) -> Result<()> {
        let environments = encode_environments(environments);
        sql::set_grant(&self.pool, account, project, role, environments.as_deref())
            .await
            .map_err(|source| self.query_error(source))?;
        self.forget_grant(account, project);
        Ok(())
    }

    pub async fn delete_grant(&self, account: &str, project: &str) -> Result<bool> {
        let deleted = sql::delete_grant(&self.pool, account, project)
            .await
            .map_err(|source| self.query_error(source))?;
        self.forget_grant(account, project);
        Ok(deleted)
    }

    /// Whether a project exists: its membership log has begun.
    pub async fn project_exists(&self, project: &str) -> Result<bool> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM membership WHERE project = $1")
            .bind(project)
            .fetch_one(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(count > 0)
    }

    pub async fn create_invite(&self, invite: &InviteRow<'_>) -> Result<()> {
        sql::insert_invite(&self.pool, invite)
            .await
            .map_err(|source| self.query_error(source))
    }

    /// [`Transaction::redeem_invite`] on its own.
    pub async fn redeem_invite(
        &self,
        code_hash: &str,
        account: &str,
        now: i64,
    ) -> Result<Option<Grant>> {
        let row = sql::redeem_invite(&self.pool, code_hash, account, now)
            .await
            .map_err(|source| self.query_error(source))?;
        row.map(|(project, role, environments)| {
            self.decode_grant(project, &role, environments.as_deref())
        })
        .transpose()
    }

    /// Adds a pending owner setup code (its hash). Each start without an owner adds its
    /// own and leaves the others valid: replicas starting on one database must not
    /// invalidate the code another one printed. The first code used ends them all.
    pub async fn add_setup_code(&self, code_hash: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO setup_codes (code_hash, created_at) VALUES ($1, $2) \
             ON CONFLICT (code_hash) DO NOTHING",
        )
        .bind(code_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// [`Transaction::take_setup_code`] on its own.
    pub async fn take_setup_code(&self, code_hash: &str) -> Result<bool> {
        let mut transaction = self.begin().await?;
        let taken = transaction.take_setup_code(code_hash).await?;
        transaction.commit().await?;
        Ok(taken)
    }
}

impl Transaction<'_> {
    pub async fn create_invite(&mut self, invite: &InviteRow<'_>) -> Result<()> {
        sql::insert_invite(&mut *self.inner, invite)
            .await
            .map_err(|source| self.query_error(source))
    }

    pub async fn create_account(
        &mut self,
        id: &str,
        name: &str,
        member_key: &str,
        admin: bool,
        now: i64,
    ) -> Result<()> {
        sql::create_account(&mut *self.inner, id, name, member_key, admin, now)
            .await
            .map_err(|source| self.query_error(source))
    }

    pub async fn set_grant(
        &mut self,
        account: &str,
        project: &str,
        role: Role,
        environments: Option<&[String]>,
    ) -> Result<()> {
        let environments = encode_environments(environments);
        sql::set_grant(
            &mut *self.inner,
            account,
            project,
            role,
            environments.as_deref(),
        )
        .await
        .map_err(|source| self.query_error(source))?;
        self.stale_grants
            .push((account.to_owned(), project.to_owned()));
        Ok(())
    }

    pub async fn delete_grant(&mut self, account: &str, project: &str) -> Result<bool> {
        let deleted = sql::delete_grant(&mut *self.inner, account, project)
            .await
            .map_err(|source| self.query_error(source))?;
        self.stale_grants
            .push((account.to_owned(), project.to_owned()));
        Ok(deleted)
    }

    /// Marks an unused, unrevoked, unexpired invite used by `account` and returns what it
    /// grants. One conditional statement: of two joins racing on one code, one gets it.
    pub async fn redeem_invite(
        &mut self,
        code_hash: &str,
        account: &str,
        now: i64,
    ) -> Result<Option<Grant>> {
        let row = sql::redeem_invite(&mut *self.inner, code_hash, account, now)
            .await
            .map_err(|source| self.query_error(source))?;
        row.map(|(project, role, environments)| {
            self.store
                .decode_grant(project, &role, environments.as_deref())
        })
        .transpose()
    }

    /// Consumes the setup code if `code_hash` is one, and with it every other pending one:
    /// the server has an owner now. `true` once per code, for one caller.
    pub async fn take_setup_code(&mut self, code_hash: &str) -> Result<bool> {
        let taken = sqlx::query("DELETE FROM setup_codes WHERE code_hash = $1")
            .bind(code_hash)
            .execute(&mut *self.inner)
            .await
            .map_err(|source| self.query_error(source))?
            .rows_affected()
            == 1;
        if taken {
            sqlx::query("DELETE FROM setup_codes")
                .execute(&mut *self.inner)
                .await
                .map_err(|source| self.query_error(source))?;
        }
        Ok(taken)
    }
}
