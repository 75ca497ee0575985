//! The documents of `envsync members`.

use envsync_client::EnvironmentRef;
use std::collections::BTreeMap;

use envsync_client::engine::{Acceptance, MemberRow, MemberStatus, Removal};
use envsync_core::role::Role;
use schemars::JsonSchema;
use serde::Serialize;

use super::Document;
use super::key_list::{FULL_LIST_HINT, is_shortened, key_list};
use crate::printer::{Printer, table};

/// `envsync members list --json`.
#[derive(Serialize, JsonSchema)]
pub struct Members {
    pub members: Vec<Member>,
}

#[derive(Serialize, JsonSchema)]
pub struct Member {
    pub name: String,
    pub fingerprint: String,
    /// The member key (`age1…:…`).
    pub key: String,
    /// For a `request`: the role `members accept` grants without `--role` (the owner-signed
    /// invite's, else writer); `null` when its invite does not check out.
    pub role: Option<Role>,
    /// `null`: every environment.
    pub environments: Option<Vec<String>>,
    pub status: Standing,
    /// Whether this is the user's own key.
    pub you: bool,
}

/// Where a key stands with this user.
#[derive(Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// A member whose key this user trusts.
    Trusted,
    /// A member whose key this user has not accepted yet.
    NewKey,
    /// Not a member: asked for access.
    Request,
    Removed,
}

impl From<Vec<MemberRow>> for Members {
    fn from(rows: Vec<MemberRow>) -> Self {
        let members = rows.into_iter().map(|row| Member {
            name: row.name,
            fingerprint: row.fingerprint,
            key: row.key,
            role: row.role,
            environments: row.environments,
            status: match row.status {
                MemberStatus::Trusted => Standing::Trusted,
                MemberStatus::NewKey => Standing::NewKey,
                MemberStatus::Request => Standing::Request,
                MemberStatus::Removed => Standing::Removed,
            },
            you: row.you,
        });
        Self {
            members: members.collect(),
        }
    }
}

impl Document for Members {
    fn text(&self, printer: &Printer) {
        let header = ["NAME", "FINGERPRINT", "ROLE", "ENVIRONMENTS", "STATUS"];
        let mut lines = vec![header.map(str::to_owned).to_vec()];
        for row in &self.members {
            let status = match row.status {
                Standing::Trusted => "member",
                Standing::NewKey => "new key: run `envsync members accept`",
                Standing::Request => "asks for access",
                Standing::Removed => "removed",
            };
            lines.push(vec![
                if row.you {
                    format!("{} (you)", row.name)
                } else {
                    row.name.clone()
                },
                row.fingerprint.clone(),
                row.role.map_or_else(|| "-".into(), |role| role.to_string()),
                row.environments
                    .as_ref()
                    .map_or_else(|| "all".into(), |list| list.join(",")),
                status.to_owned(),
            ]);
        }
        for line in table(&lines) {
            printer.data(line);
        }
    }
}

/// `envsync members remove --json`.
#[derive(Serialize, JsonSchema)]
pub struct Removed {
    pub name: String,
    /// Environment → keys the removed member could read: rotate these.
    pub exposed: BTreeMap<String, Vec<String>>,
    #[serde(skip)]
    pub project: String,
}

impl Removed {
    pub fn new(removal: Removal, project: &str) -> Self {
        Self {
            name: removal.name,
            exposed: removal.exposed,
            project: project.to_owned(),
        }
    }
}

impl Document for Removed {
    fn text(&self, printer: &Printer) {
        let project = &self.project;
        printer.message(format!(
            "removed {} from project `{project}`; every head they could read is re-encrypted without them",
            self.name
        ));
        for (environment, keys) in &self.exposed {
            if !keys.is_empty() {
                printer.message(format!(
                    "rotate these secrets of {}, which {} could read: {}",
                    EnvironmentRef::new(project, environment),
                    self.name,
                    key_list(keys)
                ));
            }
        }
        if self.exposed.values().any(|keys| is_shortened(keys.len())) {
            printer.note(FULL_LIST_HINT);
        }
    }
}

/// `envsync members accept --json`.
#[derive(Serialize, JsonSchema)]
pub struct Accepted {
    /// The names of the members accepted.
    pub accepted: Vec<String>,
    /// What was signed for each.
    pub grants: Vec<AcceptedGrant>,
}

#[derive(Serialize, JsonSchema)]
pub struct AcceptedGrant {
    pub name: String,
    pub fingerprint: String,
    /// `request` (admits a new member) or `key` (trusts a member another owner added).
    pub kind: &'static str,
    pub role: Option<Role>,
    pub environments: Option<Vec<String>>,
    /// Where the role came from: the command line, an owner-signed invite, or the default.
    pub source: String,
}

impl From<Vec<Acceptance>> for Accepted {
    fn from(accepted: Vec<Acceptance>) -> Self {
        let grants: Vec<_> = accepted
            .into_iter()
            .map(|grant| AcceptedGrant {
                name: grant.name,
                fingerprint: grant.fingerprint,
                kind: grant.kind,
                role: grant.role,
                environments: grant.environments,
                source: grant.source,
            })
            .collect();
        Self {
            accepted: grants.iter().map(|grant| grant.name.clone()).collect(),
            grants,
        }
    }
}

impl Document for Accepted {
    fn text(&self, printer: &Printer) {
        let names: Vec<_> = self
            .grants
            .iter()
            .map(|grant| format!("{} ({})", grant.name, grant.fingerprint))
            .collect();
        printer.message(format!("accepted: {}", names.join(", ")));
    }
}
