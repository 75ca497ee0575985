//! A target: one environment of one project with the file it has on this machine, which
//! `envsync use` may change.

use std::path::PathBuf;

use crate::environment_ref::EnvironmentRef;

/// One environment of one project, with its linked file resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub place: EnvironmentRef,
    /// As written in `envsync.toml`, for messages.
    pub file_label: String,
    pub file: PathBuf,
    pub link: Link,
}

/// How a target's file came to be its file on this machine (`envsync use` can change it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The file `envsync.toml` links to the environment.
    Configured,
    /// The project's default file, which `envsync use` pointed at this environment. Its
    /// base is kept apart from the one of the environment's own file (`.envsync/P/E@use`),
    /// so going back to that file later finds its base as it left it.
    Used,
    /// The environment's file holds `holder` on this machine: nothing reads or writes it
    /// for this environment (its remote history is still there for `log`, `--remote`…).
    Displaced { holder: String },
}

/// A target is its environment plus a file: `target.project`, `target.environment` and
/// everything that takes an [`EnvironmentRef`] read through to [`Target::place`].
impl std::ops::Deref for Target {
    type Target = EnvironmentRef;

    fn deref(&self) -> &EnvironmentRef {
        &self.place
    }
}

/// `project/environment`, as every message names an environment.
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.place.fmt(f)
    }
}

impl Target {
    /// A target for an environment this clone does not link: only its head is touched
    /// (membership changes re-encrypt it), never a file.
    pub fn unlinked(place: EnvironmentRef) -> Self {
        Self {
            file_label: format!("(no linked file for {place})"),
            place,
            file: PathBuf::new(),
            link: Link::Configured,
        }
    }

    /// The name of this target's local state under `.envsync/PROJECT/`: the environment,
    /// or `ENVIRONMENT@use` for the default file under `envsync use` (`@` is never part
    /// of an environment's name, so the two cannot meet).
    pub fn state_name(&self) -> String {
        match self.link {
            Link::Used => format!("{}@use", self.environment),
            _ => self.environment.clone(),
        }
    }

    /// Whether this environment's file holds another one on this machine (`envsync use`).
    pub fn is_displaced(&self) -> bool {
        matches!(self.link, Link::Displaced { .. })
    }

    /// Whether a linked file goes with this target (see [`Target::unlinked`]); a displaced
    /// one's file holds another environment.
    pub fn is_linked(&self) -> bool {
        !self.file.as_os_str().is_empty() && !self.is_displaced()
    }
}
