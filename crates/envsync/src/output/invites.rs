//! The documents of `envsync invite list` and `envsync invite revoke`.

use envsync_api::InviteInfo;
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

/// An invite on the server as the server lists it (its terms and fate, named by its code's
/// SHA-256, never the code, which the server does not have), and its state judged now.
#[derive(Serialize, JsonSchema)]
pub struct InviteListed {
    #[serde(flatten)]
    pub invite: InviteInfo,
    pub state: InviteState,
}

/// `envsync invite list --json`, newest first.
#[derive(Serialize, JsonSchema)]
pub struct Invites {
    pub project: String,
    pub invites: Vec<InviteListed>,
}

impl InviteState {
    /// `invite`'s state at `now` (Unix seconds).
    fn of(invite: &InviteInfo, now: i64) -> Self {
        if invite.revoked_at.is_some() {
            Self::Revoked
        } else if invite.redeemed_at.is_some() {
            Self::Redeemed
        } else if invite.expires_at <= now {
            Self::Expired
        } else {
            Self::Open
        }
    }
}

impl Invites {
    /// The server's list, each invite's state judged at `now` (Unix seconds).
    pub fn new(project: String, invites: Vec<InviteInfo>, now: i64) -> Self {
        let invites = invites
            .into_iter()
            .map(|invite| InviteListed {
                state: InviteState::of(&invite, now),
                invite,
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
        for InviteListed { invite, state } in &self.invites {
            let state = match state {
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
