//! The status badge of one environment, from three facts: the local file, the base the
//! workspace last pulled or pushed, and the remote head.

use serde::Serialize;

use crate::records::Pin;

/// What the workspace knows about one environment, gathered by the client.
#[derive(Debug, Clone, Copy)]
pub struct StatusInputs<'a> {
    /// SHA-256 of the linked file, `None` when there is no file.
    pub local_file: Option<&'a str>,
    /// The base version and the SHA-256 of the file as envsync last wrote or pushed it.
    pub base: Option<(u64, &'a str)>,
    /// The remote's head version, `None` when the environment has no versions yet.
    pub remote_head: Option<u64>,
}

/// An environment's status, as `envsync status` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Badge {
    Synced,
    LocalChanges,
    UpdateAvailable,
    Diverged,
    NotLinked,
    /// The member's role does not cover this environment: there is nothing to pull.
    NoAccess,
}

impl Badge {
    pub fn label(self) -> &'static str {
        match self {
            Badge::Synced => "synced",
            Badge::LocalChanges => "local changes",
            Badge::UpdateAvailable => "update available",
            Badge::Diverged => "diverged",
            Badge::NotLinked => "not linked",
            Badge::NoAccess => "no access",
        }
    }

    /// The command that moves this environment back to `synced`.
    pub fn action(self) -> Option<&'static str> {
        match self {
            Badge::Synced | Badge::NoAccess => None,
            Badge::LocalChanges => Some("push"),
            Badge::UpdateAvailable | Badge::NotLinked => Some("pull"),
            Badge::Diverged => Some("sync"),
        }
    }
}

pub fn badge(inputs: StatusInputs<'_>) -> Badge {
    let Some(local) = inputs.local_file else {
        return Badge::NotLinked;
    };
    let Some((base_version, base_file)) = inputs.base else {
        // A file that was never pushed to an empty remote is simply new work to push.
        return if inputs.remote_head.is_none() {
            Badge::LocalChanges
        } else {
            Badge::NotLinked
        };
    };
    let local_changed = local != base_file;
    let remote_moved = inputs.remote_head != Some(base_version);
    match (local_changed, remote_moved) {
        (false, false) => Badge::Synced,
        (true, false) => Badge::LocalChanges,
        (false, true) => Badge::UpdateAvailable,
        (true, true) => Badge::Diverged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(
        local: Option<&'a str>,
        base: Option<(u64, &'a str)>,
        head: Option<u64>,
    ) -> StatusInputs<'a> {
        StatusInputs {
            local_file: local,
            base,
            remote_head: head,
        }
    }

    #[test]
    fn the_five_badges() {
        assert_eq!(
            badge(inputs(Some("a"), Some((2, "a")), Some(2))),
            Badge::Synced
        );
        assert_eq!(
            badge(inputs(Some("b"), Some((2, "a")), Some(2))),
            Badge::LocalChanges
        );
        assert_eq!(
            badge(inputs(Some("a"), Some((2, "a")), Some(3))),
            Badge::UpdateAvailable
        );
        assert_eq!(
            badge(inputs(Some("b"), Some((2, "a")), Some(3))),
            Badge::Diverged
        );
        assert_eq!(
            badge(inputs(None, Some((2, "a")), Some(2))),
            Badge::NotLinked
        );
        assert_eq!(badge(inputs(Some("a"), None, Some(1))), Badge::NotLinked);
    }

    #[test]
    fn a_new_file_on_an_empty_remote_wants_a_push() {
        assert_eq!(badge(inputs(Some("a"), None, None)), Badge::LocalChanges);
        assert_eq!(Badge::LocalChanges.action(), Some("push"));
    }
}

/// Whether a publish target was last given the environment's head, as the publication
/// records on the remote say (`envsync status` never asks the target itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum PublishState {
    /// The newest record for the target names the head.
    Current,
    /// The newest record for the target names an older version.
    Behind,
    /// No record for the target (or none this history can vouch for).
    Never,
}

impl PublishState {
    /// From the head and the version the target's newest believed record names. A record
    /// of another history (the head's number with another digest, or a number past the
    /// head) is no evidence of anything: the caller leaves such records out.
    pub fn of(head: Option<&Pin>, last: Option<&Pin>) -> Self {
        match (head, last) {
            (_, None) => Self::Never,
            (Some(head), Some(last)) if head == last => Self::Current,
            _ => Self::Behind,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Behind => "behind",
            Self::Never => "never published",
        }
    }
}

/// Whether a record naming `version` can say anything about a history whose head is
/// `head`: it names the head itself, or a version below it.
pub fn fits_history(head: &Pin, version: &Pin) -> bool {
    version.number < head.number || version == head
}
