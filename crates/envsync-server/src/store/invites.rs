//! Listing and revoking invites. An invite row stays after it is redeemed or revoked, so an
//! owner sees what became of each one; only an unredeemed, unrevoked code can join (see
//! `accounts::sql::redeem_invite`).

use envsync_api::InviteInfo;
use envsync_core::role::Role;
use serde_json::value::RawValue;

use super::transaction::Transaction;
use super::{Result, Store};

/// What revoking an invite did. Only [`Revocation::Revoked`] changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    /// Redeemed already (by this account): its joiner is an access request now, which an
    /// owner declines instead.
    Redeemed(String),
    /// Revoked already, at this time.
    AlreadyRevoked(i64),
    /// No invite to this project with that code hash.
    NotFound,
}

/// An invite row as selected: code hash, role, environments, created by, created at,
/// expires at, used at, used by, revoked at, revoked by, the owner-signed terms.
type InviteRecord = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// Every invite to `project`, newest first.
    pub async fn project_invites(&self, project: &str) -> Result<Vec<InviteInfo>> {
        let rows: Vec<InviteRecord> = sqlx::query_as(
            "SELECT code_hash, role, environments, created_by, created_at, expires_at, \
                    used_at, used_by, revoked_at, revoked_by, signed_json \
             FROM invites WHERE project = $1 ORDER BY created_at DESC, code_hash",
        )
        .bind(project)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        rows.into_iter()
            .map(|row| self.decode_invite(project, row))
            .collect()
    }

    /// Whether the code of this hash was an invite that an owner revoked: the join it was
    /// refused tells the joiner so, instead of "mistyped or used".
    pub async fn invite_revoked(&self, code_hash: &str) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM invites WHERE code_hash = $1 AND revoked_at IS NOT NULL",
        )
        .bind(code_hash)
        .fetch_one(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(count > 0)
    }

    /// A row decoded, or refused as corrupt: a role the server does not know is never
    /// guessed at.
    fn decode_invite(&self, project: &str, row: InviteRecord) -> Result<InviteInfo> {
        let (code_sha256, role, environments, created_by, created_at, expires_at) =
            (row.0, row.1, row.2, row.3, row.4, row.5);
        let role = role.parse::<Role>().map_err(|error| {
            self.corrupt_row("invite role", format!("project {project}: {error}"))
        })?;
        let environments = environments
            .map(|text| serde_json::from_str::<Vec<String>>(&text))
            .transpose()
            .map_err(|error| {
                self.corrupt_row(
                    "invite environments",
                    format!("project {project}: not a JSON list of names: {error}"),
                )
            })?;
        // Stored as the owner sent it (checked to parse then); clients verify what it says.
        let signed = row
            .10
            .map(RawValue::from_string)
            .transpose()
            .map_err(|error| {
                self.corrupt_row(
                    "signed invite",
                    format!("project {project}: not JSON: {error}"),
                )
            })?;
        Ok(InviteInfo {
            code_sha256,
            role,
            environments,
            created_by,
            created_at,
            expires_at,
            redeemed_at: row.6,
            redeemed_by: row.7,
            revoked_at: row.8,
            revoked_by: row.9,
            signed,
        })
    }
}

impl Transaction<'_> {
    /// Revokes the invite unless it was redeemed or revoked already. One conditional
    /// statement, like redeeming: of a join and a revocation racing on one code, one wins.
    pub async fn revoke_invite(
        &mut self,
        project: &str,
        code_hash: &str,
        by: &str,
        now: i64,
    ) -> Result<Revocation> {
        let revoked = sqlx::query(
            "UPDATE invites SET revoked_at = $4, revoked_by = $3 \
             WHERE project = $1 AND code_hash = $2 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(project)
        .bind(code_hash)
        .bind(by)
        .bind(now)
        .execute(&mut *self.inner)
        .await
        .map_err(|source| self.query_error(source))?
        .rows_affected()
            == 1;
        if revoked {
            return Ok(Revocation::Revoked);
        }
        let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT used_by, revoked_at FROM invites WHERE project = $1 AND code_hash = $2",
        )
        .bind(project)
        .bind(code_hash)
        .fetch_optional(&mut *self.inner)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(match row {
            None => Revocation::NotFound,
            Some((_, Some(at))) => Revocation::AlreadyRevoked(at),
            Some((used_by, None)) => Revocation::Redeemed(used_by.unwrap_or_default()),
        })
    }
}
