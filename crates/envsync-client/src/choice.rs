//! What this machine says about which environment to act on, beside `envsync.toml`: the
//! environment `envsync use` pointed a project's default file at (in `.envsync/`, which is
//! git-ignored, so it never reaches a teammate), and the current git branch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};
use crate::files::{read_json, write_json};

/// `.envsync/PROJECT/use.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseRecord {
    /// The environment the project's default linked file holds on this machine.
    pub environment: String,
}

fn record_path(state_dir: &Path, project: &str) -> PathBuf {
    state_dir.join(project).join("use.json")
}

/// Every project's `use` record, by project.
pub fn read_uses<'a>(
    state_dir: &Path,
    projects: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>> {
    let mut uses = BTreeMap::new();
    for project in projects {
        let path = record_path(state_dir, project);
        let record: Option<UseRecord> = read_json(&path, |path, error| {
            ClientError::Integrity(format!(
                "{} is corrupt ({error}); delete it to go back to envsync.toml's default \
                 environment",
                path.display()
            ))
        })?;
        if let Some(record) = record {
            uses.insert(project.clone(), record.environment);
        }
    }
    Ok(uses)
}

/// Records (or, with `None`, forgets) which environment the default file holds.
pub fn write_use(state_dir: &Path, project: &str, environment: Option<&str>) -> Result<()> {
    let path = record_path(state_dir, project);
    match environment {
        Some(environment) => write_json(
            &path,
            &UseRecord {
                environment: environment.to_owned(),
            },
        ),
        None => match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ClientError::io(
                format!("removing {}", path.display()),
                error,
            )),
            _ => Ok(()),
        },
    }
}

/// The branch checked out in the repository holding `root`, asked of the `git` CLI (so
/// worktrees, `GIT_DIR` and the like behave as git says). A detached HEAD, no repository or
/// no `git` at all is `None`: then no branch mapping applies.
pub fn current_branch(root: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let branch = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !branch.is_empty()).then_some(branch)
}
