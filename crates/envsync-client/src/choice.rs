//! What this machine says about which environment to act on, beside `envsync.toml`: the
//! environment `envsync use` pointed a project's default file at (in `.envsync/`, which is
//! git-ignored, so it never reaches a teammate), and the current git branch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use envsync_core::selection::{Branch, BranchOrigin};
use serde::{Deserialize, Serialize};

use crate::env_vars::{self, EnvVars};
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

/// The current branch of the repository holding `root`, for the branch map, in this order:
///
/// 1. `ENVSYNC_BRANCH`, set for a run (any CI, or a script), wins over what is checked out;
/// 2. the branch checked out, asked of the `git` CLI (so worktrees, `GIT_DIR` and the like
///    behave as git says);
/// 3. with HEAD detached, as CI checkouts are, the branch the CI's own variables name
///    ([`ci_branch`]).
///
/// No repository, no `git` at all, or a detached HEAD no variable names is `None`: then no
/// branch mapping applies.
pub fn current_branch(root: &Path) -> Option<Branch> {
    if let Some(name) = env_vars::var(EnvVars::ENVSYNC_BRANCH) {
        return Some(Branch {
            name: name.trim().to_owned(),
            origin: BranchOrigin::Variable(EnvVars::ENVSYNC_BRANCH),
        });
    }
    match checkout(root)? {
        Checkout::Branch(name) => Some(Branch::checked_out(name)),
        Checkout::Detached => ci_branch(env_vars::var),
    }
}

/// What `HEAD` of a repository is.
enum Checkout {
    Branch(String),
    Detached,
}

/// `None` outside a repository (or without `git`): `git symbolic-ref --quiet` exits 1 for a
/// detached HEAD and 128 when there is no repository.
fn checkout(root: &Path) -> Option<Checkout> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if output.status.code() == Some(1) {
        return Some(Checkout::Detached);
    }
    let branch = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !branch.is_empty()).then_some(Checkout::Branch(branch))
}

/// The branch a CI job runs for, from the variables its CI documents (`var` reads one).
/// Each CI's variables count only when that CI says it is running (`GITHUB_ACTIONS`,
/// `GITLAB_CI`), so a stray variable in a developer's shell maps nothing.
///
/// - GitHub Actions: a pull request's source branch (`GITHUB_HEAD_REF`, set only for
///   `pull_request` events), else `GITHUB_REF_NAME` when `GITHUB_REF` is a branch
///   (`refs/heads/…`; a tag is no branch).
/// - GitLab CI: a merge request's source branch (`CI_MERGE_REQUEST_SOURCE_BRANCH_NAME`), else
///   `CI_COMMIT_REF_NAME` unless the pipeline runs for a tag (`CI_COMMIT_TAG`).
pub fn ci_branch(var: impl Fn(&str) -> Option<String>) -> Option<Branch> {
    let from = |name: &'static str| {
        var(name).map(|value| Branch {
            name: value.trim().to_owned(),
            origin: BranchOrigin::Variable(name),
        })
    };
    if var(EnvVars::GITHUB_ACTIONS).as_deref() == Some("true") {
        let pushed_branch = var(EnvVars::GITHUB_REF).is_some_and(|r| r.starts_with("refs/heads/"));
        return from(EnvVars::GITHUB_HEAD_REF).or_else(|| {
            pushed_branch
                .then(|| from(EnvVars::GITHUB_REF_NAME))
                .flatten()
        });
    }
    if var(EnvVars::GITLAB_CI).as_deref() == Some("true") {
        let tag = var(EnvVars::CI_COMMIT_TAG).is_some();
        return from(EnvVars::CI_MERGE_REQUEST_SOURCE_BRANCH_NAME)
            .or_else(|| (!tag).then(|| from(EnvVars::CI_COMMIT_REF_NAME)).flatten());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(variables: &[(&str, &str)]) -> Option<(String, &'static str)> {
        let lookup = |name: &str| {
            variables
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        ci_branch(lookup).map(|branch| match branch.origin {
            BranchOrigin::Variable(variable) => (branch.name, variable),
            BranchOrigin::Checkout => unreachable!("CI variables name the branch"),
        })
    }

    fn named(name: &str, variable: &'static str) -> Option<(String, &'static str)> {
        Some((name.to_owned(), variable))
    }

    #[test]
    fn github_takes_the_pull_request_source_then_a_pushed_branch_never_a_tag() {
        let actions = ("GITHUB_ACTIONS", "true");
        let pull_request = [
            actions,
            ("GITHUB_HEAD_REF", "feature/x"),
            ("GITHUB_REF", "refs/pull/7/merge"),
            ("GITHUB_REF_NAME", "7/merge"),
        ];
        assert_eq!(ci(&pull_request), named("feature/x", "GITHUB_HEAD_REF"));
        let push = [
            actions,
            ("GITHUB_REF", "refs/heads/release/2.0"),
            ("GITHUB_REF_NAME", "release/2.0"),
        ];
        assert_eq!(ci(&push), named("release/2.0", "GITHUB_REF_NAME"));
        let tag = [
            actions,
            ("GITHUB_REF", "refs/tags/v1"),
            ("GITHUB_REF_NAME", "v1"),
        ];
        assert_eq!(ci(&tag), None);
        assert_eq!(ci(&push[1..]), None, "not in GitHub Actions");
    }

    #[test]
    fn gitlab_takes_the_merge_request_source_then_the_ref_unless_a_tag() {
        let gitlab = ("GITLAB_CI", "true");
        let merge_request = [
            gitlab,
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/y"),
            ("CI_COMMIT_REF_NAME", "feature/y"),
        ];
        assert_eq!(
            ci(&merge_request),
            named("feature/y", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        );
        let branch = [gitlab, ("CI_COMMIT_REF_NAME", "main")];
        assert_eq!(ci(&branch), named("main", "CI_COMMIT_REF_NAME"));
        let tag = [
            gitlab,
            ("CI_COMMIT_REF_NAME", "v1"),
            ("CI_COMMIT_TAG", "v1"),
        ];
        assert_eq!(ci(&tag), None);
        assert_eq!(ci(&[]), None);
    }
}
