//! Accounts, their roles on projects (grants), invites and the owner setup code.
//!
//! The signed membership log that clients verify is the authority on who may decrypt and
//! sign; grants are the server's copy of it for deciding which requests to serve, set by
//! invites and kept in step with the membership events the server stores.

use sqlx::Row;

use super::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub member_key: Option<String>,
    pub admin: bool,
}

/// A role on a project as stored: `environments` is a JSON array, `None` meaning all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub project: String,
    pub role: String,
    pub environments: Option<String>,
}

/// What a redeemed invite grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteGrant {
    pub project: String,
    pub role: String,
    pub environments: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewInvite<'a> {
    pub code_hash: &'a str,
    pub project: &'a str,
    pub role: &'a str,
    pub environments: Option<&'a str>,
    pub created_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

const SETUP_CODE: &str = "owner_setup_code_hash";

impl Store {
    pub async fn create_account(
        &self,
        id: &str,
        name: &str,
        member_key: &str,
        admin: bool,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO accounts (id, name, member_key, admin, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(member_key)
        .bind(i64::from(admin))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
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

    pub async fn grants(&self, account: &str) -> Result<Vec<GrantRecord>> {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT project, role, environments FROM grants WHERE account = $1 ORDER BY project",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(rows
            .into_iter()
            .map(|(project, role, environments)| GrantRecord {
                project,
                role,
                environments,
            })
            .collect())
    }

    pub async fn grant(&self, account: &str, project: &str) -> Result<Option<GrantRecord>> {
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
        let found = row.map(|(role, environments)| GrantRecord {
            project: project.to_owned(),
            role,
            environments,
        });
        if let (Some(cache), Some(generation)) = (&self.cache, generation) {
            cache.grants().put(generation, key, found.clone());
        }
        Ok(found)
    }

    fn forget_grant(&self, account: &str, project: &str) {
        if let Some(cache) = &self.cache {
            cache
                .grants()
                .forget(&(account.to_owned(), project.to_owned()));
        }
    }

    /// Every account with a role on `project`, with its name and member key, by account.
    pub async fn project_grants(&self, project: &str) -> Result<Vec<(Account, GrantRecord)>> {
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
            .map(|row| -> std::result::Result<_, sqlx::Error> {
                Ok((
                    Account {
                        id: row.try_get("id")?,
                        name: row.try_get("name")?,
                        member_key: row.try_get("member_key")?,
                        admin: row.try_get::<i64, _>("admin")? != 0,
                    },
                    GrantRecord {
                        project: project.to_owned(),
                        role: row.try_get("role")?,
                        environments: row.try_get("environments")?,
                    },
                ))
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|source| self.query_error(source))
    }

    /// Sets an account's role on a project, replacing any earlier one.
    pub async fn set_grant(
        &self,
        account: &str,
        project: &str,
        role: &str,
        environments: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO grants (account, project, role, environments) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, project) \
             DO UPDATE SET role = excluded.role, environments = excluded.environments",
        )
        .bind(account)
        .bind(project)
        .bind(role)
        .bind(environments)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        self.forget_grant(account, project);
        Ok(())
    }

    pub async fn delete_grant(&self, account: &str, project: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM grants WHERE account = $1 AND project = $2")
            .bind(account)
            .bind(project)
            .execute(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        self.forget_grant(account, project);
        Ok(result.rows_affected() == 1)
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

    pub async fn create_invite(&self, invite: &NewInvite<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO invites (code_hash, project, role, environments, created_by, \
                                  created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(invite.code_hash)
        .bind(invite.project)
        .bind(invite.role)
        .bind(invite.environments)
        .bind(invite.created_by)
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// Marks an unused, unexpired invite used by `account` and returns what it grants. One
    /// conditional statement: of two joins racing on one code, one gets it.
    pub async fn redeem_invite(
        &self,
        code_hash: &str,
        account: &str,
        now: i64,
    ) -> Result<Option<InviteGrant>> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "UPDATE invites SET used_at = $3, used_by = $2 \
             WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $3 \
             RETURNING project, role, environments",
        )
        .bind(code_hash)
        .bind(account)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(row.map(|(project, role, environments)| InviteGrant {
            project,
            role,
            environments,
        }))
    }

    /// Replaces the pending owner setup code (its hash): each start without an owner
    /// prints a fresh one, and only the newest works.
    pub async fn set_setup_code(&self, code_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(SETUP_CODE)
        .bind(code_hash)
        .execute(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// Consumes the setup code if `code_hash` is it; `true` once, for one caller.
    pub async fn take_setup_code(&self, code_hash: &str) -> Result<bool> {
        let result = sqlx::query("DELETE FROM settings WHERE name = $1 AND value = $2")
            .bind(SETUP_CODE)
            .bind(code_hash)
            .execute(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(result.rows_affected() == 1)
    }
}
