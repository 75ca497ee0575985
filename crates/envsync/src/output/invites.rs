//! The documents of `envsync invite list` and `envsync invite revoke`.

use envsync_api::InviteInfo;
use envsync_core::role::Role;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Document, format_time};
use crate::printer::{Printer, table};

/// What became of an invite, as of the listing.
#[derive(Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum InviteState {
    /// Its code still joins.
    Open,
    Redeemed,
    Revoked,
    /// Unredeemed and past its expiry: its code no longer joins.
    Expired,
}

/// An invite on the server: its terms and fate, named by its code's SHA-256 (never the
/// code, which the server does not have).
#[derive(Serialize, JsonSchema)]
pub struct InviteListed {
    pub code_sha256: String,
    pub state: InviteState,
    pub role: Role,
    /// `null`: every environment.
    pub environments: Option<Vec<String>>,
    /// The account that created it.
    pub created_by: String,
    /// Unix seconds, as are the other times.
    pub created_at: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
    /// The account that joined with it.
    pub redeemed_by: Option<String>,
    pub revoked_at: Option<i64>,
    /// The owner who revoked it.
    pub revoked_by: Option<String>,
}

/// `envsync invite list --json`, newest first.
#[derive(Serialize, JsonSchema)]
pub struct Invites {
    pub project: String,
    pub invites: Vec<InviteListed>,
}

impl Invites {
    /// The server's list, each invite's state judged at `now` (Unix seconds).
    pub fn new(project: String, invites: Vec<InviteInfo>, now: i64) -> Self {
        let invites = invites
            .into_iter()
            .map(|invite| InviteListed {
                state: if invite.revoked_at.is_some() {
                    InviteState::Revoked
                } else if invite.redeemed_at.is_some() {
                    InviteState::Redeemed
                } else if invite.expires_at <= now {
                    InviteState::Expired
                } else {
                    InviteState::Open
                },
                code_sha256: invite.code_sha256,
                role: invite.role,
                environments: invite.environments,
                created_by: invite.created_by,
                created_at: invite.created_at,
                expires_at: invite.expires_at,
                redeemed_at: invite.redeemed_at,
                redeemed_by: invite.redeemed_by,
                revoked_at: invite.revoked_at,
                revoked_by: invite.revoked_by,
            })
            .collect();
        Self { project, invites }
    }
}

/// How many hex digits of a code's SHA-256 the table shows: enough to revoke by.
const SHORT_HASH: usize = 12;

impl Document for Invites {
    fn text(&self, printer: &Printer) {
        if self.invites.is_empty() {
            printer.message(format!(
                "project {} has no invites; make one with `envsync invite`",
                self.project
            ));
            return;
        }
        let header = [
            "CODE SHA-256",
            "ROLE",
            "ENVIRONMENTS",
            "BY",
            "EXPIRES",
            "STATE",
        ];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        for invite in &self.invites {
            let state = match invite.state {
                InviteState::Open => "open".to_owned(),
                InviteState::Expired => "expired".to_owned(),
                InviteState::Redeemed => format!(
                    "redeemed by {}",
                    invite.redeemed_by.as_deref().unwrap_or("?")
                ),
                InviteState::Revoked => {
                    format!("revoked by {}", invite.revoked_by.as_deref().unwrap_or("?"))
                }
            };
            rows.push(vec![
                invite.code_sha256.chars().take(SHORT_HASH).collect(),
                invite.role.to_string(),
                invite
                    .environments
                    .as_ref()
                    .map_or_else(|| "all".to_owned(), |names| names.join(", ")),
                invite.created_by.clone(),
                format_time(invite.expires_at),
                state,
            ]);
        }
        for line in table(&rows) {
            printer.data(line);
        }
    }
}

/// `envsync invite revoke --json`.
#[derive(Serialize, JsonSchema)]
pub struct InviteRevoked {
    pub project: String,
    /// The revoked invite's code SHA-256, in full.
    pub code_sha256: String,
}

impl Document for InviteRevoked {
    fn text(&self, printer: &Printer) {
        printer.message(format!(
            "revoked invite {} to project {}: its code no longer joins",
            self.code_sha256, self.project
        ));
    }
}
