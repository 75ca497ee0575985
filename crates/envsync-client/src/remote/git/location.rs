//! What a git remote's text names: a repository (a URL git understands, or a remote of the
//! workspace's own repository) and the branch envsync keeps there.

use std::path::Path;
use std::process::Command;

use crate::error::{ClientError, Result};

/// The branch envsync keeps its records on unless `#branch` names another.
pub const DEFAULT_BRANCH: &str = "envsync";

/// Where a git remote lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repository {
    /// A URL handed to git as it is (`ssh://…`, `https://…`, `http://…`, `file://…`).
    Url(String),
    /// `git:NAME`: the URL of the workspace repository's remote of that name.
    WorkspaceRemote(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLocation {
    pub repository: Repository,
    pub branch: String,
}

impl GitLocation {
    /// Parses `git+ssh://…`, `git+https://…`, `git+http://…`, `git+file://…` or `git:NAME`,
    /// each with an optional `#branch`; `None` when `spec` is not a git remote at all.
    pub fn parse(spec: &str) -> Option<Result<Self>> {
        let (repository, branch) = match spec.rsplit_once('#') {
            Some((repository, branch)) => (repository, Some(branch)),
            None => (spec, None),
        };
        let repository = if let Some(url) = repository.strip_prefix("git+") {
            url_repository(spec, url)
        } else if let Some(name) = repository.strip_prefix("git:") {
            remote_name(spec, name)
        } else {
            return None;
        };
        Some(repository.and_then(|repository| {
            let branch = branch.unwrap_or(DEFAULT_BRANCH);
            check_branch(spec, branch)?;
            Ok(Self {
                repository,
                branch: branch.to_owned(),
            })
        }))
    }

    /// The URL to give git: a workspace remote's is asked of git in `workspace_root`.
    pub fn url(&self, workspace_root: &Path) -> Result<String> {
        match &self.repository {
            Repository::Url(url) => Ok(url.clone()),
            Repository::WorkspaceRemote(name) => workspace_remote_url(workspace_root, name),
        }
    }
}

impl GitLocation {
    /// Who can read the branch, for `init`'s warning: everyone who can read the repository.
    pub fn readers(&self) -> String {
        let repository = match &self.repository {
            Repository::Url(url) => redacted(url),
            Repository::WorkspaceRemote(name) => format!("this repository's remote `{name}`"),
        };
        format!(
            "everyone who can read {repository} can read its branch `{}`",
            self.branch
        )
    }
}

fn url_repository(spec: &str, url: &str) -> Result<Repository> {
    let known = ["ssh://", "https://", "http://", "file://"];
    if !known.iter().any(|scheme| url.starts_with(scheme)) {
        return Err(ClientError::Input(format!(
            "remote `{spec}`: a git remote is git+ssh://, git+https://, git+http://, \
             git+file:// or git:REMOTE_NAME"
        )));
    }
    if url
        .split_once("://")
        .is_none_or(|(_, rest)| rest.is_empty())
    {
        return Err(ClientError::Input(format!(
            "remote `{spec}`: the repository URL is empty"
        )));
    }
    Ok(Repository::Url(url.to_owned()))
}

fn remote_name(spec: &str, name: &str) -> Result<Repository> {
    let valid = !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-/".contains(&byte));
    if !valid {
        return Err(ClientError::Input(format!(
            "remote `{spec}`: `{name}` is not a git remote name (e.g. git:origin)"
        )));
    }
    Ok(Repository::WorkspaceRemote(name.to_owned()))
}

/// A branch name git accepts and that cannot be taken for an option or a path outside
/// `refs/heads/`.
fn check_branch(spec: &str, branch: &str) -> Result<()> {
    let valid = !branch.is_empty()
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.ends_with(".lock")
        && branch
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-/".contains(&byte));
    if valid {
        Ok(())
    } else {
        Err(ClientError::Input(format!(
            "remote `{spec}`: `{branch}` is not a branch name envsync can use \
             (letters, digits, `.`, `_`, `-`, `/`)"
        )))
    }
}

/// `git remote get-url NAME` in the workspace.
fn workspace_remote_url(workspace_root: &Path, name: &str) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(workspace_root)
        .args(["remote", "get-url", "--", name])
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .map_err(|error| ClientError::io("running git (is it installed?)", error))?;
    let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || url.is_empty() {
        return Err(ClientError::Input(format!(
            "envsync.toml names the remote git:{name}, but the repository at {} has no remote \
             `{name}` (see `git remote -v`)",
            workspace_root.display()
        )));
    }
    Ok(url)
}

/// `url` without a password, for messages and for naming the remote's ledger and cache:
/// `https://user:secret@host/x` becomes `https://user@host/x`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_remote_names_and_branches() {
        let parsed = GitLocation::parse("git+ssh://git@github.com/acme/app.git")
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.repository,
            Repository::Url("ssh://git@github.com/acme/app.git".into())
        );
        assert_eq!(parsed.branch, "envsync");
        let parsed = GitLocation::parse("git:origin#team/secrets")
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.repository,
            Repository::WorkspaceRemote("origin".into())
        );
        assert_eq!(parsed.branch, "team/secrets");
        assert!(GitLocation::parse("../remote").is_none());
        assert!(GitLocation::parse("https://envsync.example").is_none());
        for bad in [
            "git+ftp://host/x",
            "git+file://",
            "git:",
            "git:-x",
            "git:origin#",
            "git:origin#-f",
            "git:origin#a..b",
            "git:origin#a b",
            "git+file:///x#main.lock",
        ] {
            assert!(GitLocation::parse(bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redacted("https://ci:hunter2@git.example/a.git"),
            "https://ci@git.example/a.git"
        );
        assert_eq!(redacted("file:///srv/a.git"), "file:///srv/a.git");
        assert_eq!(redacted("git@github.com:a/b.git"), "git@github.com:a/b.git");
    }
}
