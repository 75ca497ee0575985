use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A member's role on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Role {
    /// Pulls only.
    Reader,
    /// Pushes and rolls back.
    Writer,
    /// Everything a writer does, plus members, invites and tokens.
    Owner,
}

impl Role {
    pub fn can_push(self) -> bool {
        self >= Role::Writer
    }

    pub fn can_manage_members(self) -> bool {
        self == Role::Owner
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            "owner" => Ok(Role::Owner),
            other => Err(format!(
                "unknown role `{other}`: expected owner, writer or reader"
            )),
        }
    }
}
