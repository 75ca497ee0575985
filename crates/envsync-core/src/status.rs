//! The status badge of one environment, from three facts: the local file, the base the
//! workspace last pulled or pushed, and the remote head.

use serde::Serialize;

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
