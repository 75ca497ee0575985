//! The documents about which environment a command acts on: `status`'s `current`
//! entries and `envsync use`.

use envsync_client::engine::UseOutcome;
use envsync_core::selection::{BranchOrigin, Source};
use schemars::JsonSchema;
use serde::Serialize;

use super::Document;
use crate::printer::Printer;

/// Per project: the environment commands given no `--env` act on, and what chose it.
#[derive(Serialize, JsonSchema)]
pub struct CurrentEnvironment {
    pub project: String,
    pub environment: String,
    pub chosen_by: ChosenBy,
    /// With `chosen_by: branch`: the current git branch.
    pub branch: Option<String>,
    /// With `chosen_by: branch`: the environment variable that named the branch
    /// (`ENVSYNC_BRANCH`, or a CI's own, such as `GITHUB_HEAD_REF`, while HEAD is detached);
    /// null when it is the branch checked out.
    pub branch_variable: Option<String>,
    /// With `chosen_by: branch`: the pattern of `[projects.NAME.branches]` it matched.
    pub pattern: Option<String>,
    /// The environment is protected and was not named: commands refuse it without `--env`.
    pub needs_explicit_env: bool,
}

/// What chose the environment, in the order that decides: `envsync use` on this machine,
/// then the git branch map, then envsync.toml's default.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChosenBy {
    Use,
    Branch,
    Default,
}

impl From<envsync_client::engine::CurrentEnvironment> for CurrentEnvironment {
    fn from(current: envsync_client::engine::CurrentEnvironment) -> Self {
        let (chosen_by, branch, pattern) = match current.selection.source {
            Source::Use => (ChosenBy::Use, None, None),
            Source::Branch { branch, pattern } => (ChosenBy::Branch, Some(branch), Some(pattern)),
            Source::Flag | Source::Default => (ChosenBy::Default, None, None),
        };
        let branch_variable = branch.as_ref().and_then(|branch| match branch.origin {
            BranchOrigin::Checkout => None,
            BranchOrigin::Variable(variable) => Some(variable.to_owned()),
        });
        Self {
            project: current.project,
            environment: current.selection.environment,
            chosen_by,
            branch: branch.map(|branch| branch.name),
            branch_variable,
            pattern,
            needs_explicit_env: current.needs_explicit_env,
        }
    }
}

impl CurrentEnvironment {
    /// One line under the status table; none when envsync.toml's default simply applies.
    pub fn text(&self) -> Option<String> {
        let why = match (&self.chosen_by, &self.branch, &self.pattern) {
            (ChosenBy::Default, ..) => return None,
            (ChosenBy::Use, ..) => {
                "`envsync use` on this machine; `envsync use --reset` goes back".to_owned()
            }
            (ChosenBy::Branch, Some(branch), Some(pattern)) => match &self.branch_variable {
                None => format!("git branch `{branch}` matches `{pattern}` in envsync.toml"),
                Some(variable) => format!(
                    "branch `{branch}`, named by {variable}, matches `{pattern}` in envsync.toml"
                ),
            },
            (ChosenBy::Branch, ..) => "the git branch map".to_owned(),
        };
        Some(if self.needs_explicit_env {
            format!(
                "{}: {why}, which points at {}; it is protected, so commands without --env refuse",
                self.project, self.environment
            )
        } else {
            format!(
                "{}: commands without --env act on {} ({why})",
                self.project, self.environment
            )
        })
    }
}

/// `envsync use --json`.
#[derive(Serialize, JsonSchema)]
pub struct Used {
    pub project: String,
    /// The environment the default file holds now.
    pub environment: String,
    /// The environment it held before.
    pub previous: String,
    /// The default linked file, as envsync.toml names it.
    pub file: String,
    /// The version written into the file; null when nothing changed.
    pub version: Option<u64>,
    /// Who made that version, as the owner-signed membership log names them.
    pub author: Option<String>,
}

impl From<UseOutcome> for Used {
    fn from(outcome: UseOutcome) -> Self {
        Self {
            project: outcome.project,
            environment: outcome.environment,
            previous: outcome.previous,
            file: outcome.file,
            version: outcome.version,
            author: outcome.author,
        }
    }
}

impl Document for Used {
    fn text(&self, printer: &Printer) {
        match self.version {
            None => printer.message(format!(
                "{} already holds {}/{}; nothing changed",
                self.file, self.project, self.environment
            )),
            Some(version) => printer.message(format!(
                "{} now holds {}/{} version {version}{} (was {})",
                self.file,
                self.project,
                self.environment,
                self.author
                    .as_ref()
                    .map(|author| format!(" by {author}"))
                    .unwrap_or_default(),
                self.previous
            )),
        }
    }
}
