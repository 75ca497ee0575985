//! Which environment a command acts on, in one documented order:
//!
//! 1. `--env NAME`, given on the command line;
//! 2. `envsync use NAME`, recorded on this machine only;
//! 3. the first of `[projects.NAME.branches]` that matches the current git branch, the most
//!    specific pattern first (the one with the most characters besides `*`; on a tie, the
//!    one written first); the client finds that branch (see [`BranchOrigin`]);
//! 4. `default_environment`, else the project's first environment.
//!
//! A protected environment is never reached through 2 or 3: those are implicit, and an
//! everyday `envsync push` on a release branch must not land on production. The caller
//! refuses such a selection (see [`Selection::needs_explicit_env`]) instead of falling
//! back, so nobody's command quietly acts on another environment than the map says.

use serde::Serialize;

use crate::config::{ProjectConfig, glob_matches};

/// Where the selected environment came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Source {
    /// `--env` on the command line.
    Flag,
    /// `envsync use`, on this machine.
    Use,
    /// The current git branch matched a pattern of `[projects.NAME.branches]`.
    Branch { branch: Branch, pattern: String },
    /// `default_environment`, else the first environment.
    Default,
}

/// The current git branch, and where its name came from: a CI job checks out a detached
/// HEAD, whose branch only the CI's variables name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    pub name: String,
    pub origin: BranchOrigin,
}

/// Where a [`Branch`]'s name came from, so `status` can say why a mapping applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "variable")]
pub enum BranchOrigin {
    /// The branch checked out (`git symbolic-ref HEAD`).
    Checkout,
    /// An environment variable named it: `ENVSYNC_BRANCH`, or a CI's own variable while
    /// HEAD is detached (`GITHUB_HEAD_REF`, `CI_COMMIT_REF_NAME`, …).
    Variable(&'static str),
}

impl Branch {
    /// A branch checked out in the work tree.
    pub fn checked_out(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            origin: BranchOrigin::Checkout,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub environment: String,
    pub source: Source,
}

impl Selection {
    /// Whether this selection reached a protected environment implicitly (through `use` or
    /// a branch), which commands refuse: a protected environment takes `--env`.
    pub fn needs_explicit_env(&self, project: &ProjectConfig) -> bool {
        matches!(self.source, Source::Use | Source::Branch { .. })
            && project.is_protected(&self.environment)
    }
}

/// Applies the order above. `branch` is asked only when neither `--env` nor `use` decides
/// and the project maps branches, since finding the branch costs a `git` process.
pub fn select(
    project: &ProjectConfig,
    explicit: Option<&str>,
    used: Option<&str>,
    branch: impl FnOnce() -> Option<Branch>,
) -> Selection {
    let chosen = |environment: &str, source| Selection {
        environment: environment.to_owned(),
        source,
    };
    if let Some(environment) = explicit {
        return chosen(environment, Source::Flag);
    }
    if let Some(environment) = used {
        return chosen(environment, Source::Use);
    }
    if !project.branches.is_empty()
        && let Some(branch) = branch()
        && let Some((pattern, environment)) = branch_environment(project, &branch.name)
    {
        let source = Source::Branch {
            branch,
            pattern: pattern.to_owned(),
        };
        return chosen(environment, source);
    }
    chosen(project.default_environment(), Source::Default)
}

/// The most specific pattern matching `branch`, and its environment.
pub fn branch_environment<'a>(
    project: &'a ProjectConfig,
    branch: &str,
) -> Option<(&'a str, &'a str)> {
    let literal_length = |pattern: &str| pattern.chars().filter(|c| *c != '*').count();
    let mut best: Option<(&str, &str)> = None;
    for (pattern, environment) in &project.branches {
        if !glob_matches(pattern, branch) {
            continue;
        }
        if best.is_none_or(|(chosen, _)| literal_length(pattern) > literal_length(chosen)) {
            best = Some((pattern, environment));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn project() -> ProjectConfig {
        let text = r#"remote = "r"
[projects.app.environments]
development = ".env"
staging = ".env.staging"
production = { file = ".env.production", protected = true }
[projects.app.branches]
"*" = "development"
"release/*" = "staging"
"release/hotfix-*" = "production"
"main" = "production"
"#;
        Config::parse(text)
            .unwrap()
            .projects
            .swap_remove("app")
            .unwrap()
    }

    fn branch(name: &str) -> impl FnOnce() -> Option<Branch> + use<> {
        let branch = Branch::checked_out(name);
        move || Some(branch)
    }

    #[test]
    fn precedence_is_flag_then_use_then_branch_then_default() {
        let app = project();
        let flag = select(&app, Some("production"), Some("staging"), branch("main"));
        assert_eq!(
            (flag.environment.as_str(), &flag.source),
            ("production", &Source::Flag)
        );
        let used = select(&app, None, Some("staging"), || panic!("git is not asked"));
        assert_eq!(used.source, Source::Use);
        let mapped = select(&app, None, None, branch("release/1.2"));
        assert_eq!(mapped.environment, "staging");
        let detached = select(&app, None, None, || None);
        assert_eq!(
            (detached.environment.as_str(), detached.source),
            ("development", Source::Default)
        );
    }

    #[test]
    fn the_most_specific_pattern_wins_whatever_the_order() {
        let app = project();
        assert_eq!(
            branch_environment(&app, "release/1"),
            Some(("release/*", "staging"))
        );
        assert_eq!(
            branch_environment(&app, "feature/x"),
            Some(("*", "development"))
        );
        assert_eq!(
            branch_environment(&app, "release/hotfix-2"),
            Some(("release/hotfix-*", "production"))
        );
    }

    #[test]
    fn a_protected_environment_is_never_chosen_implicitly() {
        let app = project();
        assert!(select(&app, None, None, branch("main")).needs_explicit_env(&app));
        assert!(select(&app, None, Some("production"), || None).needs_explicit_env(&app));
        assert!(!select(&app, Some("production"), None, || None).needs_explicit_env(&app));
        assert!(!select(&app, None, None, branch("release/1")).needs_explicit_env(&app));
    }
}
