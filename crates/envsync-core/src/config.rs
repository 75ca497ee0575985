//! `envsync.toml`: the committed description of a workspace.
//!
//! ```toml
//! remote = "../team-secrets"          # folder path, file:// URL, http(s):// or s3:// URL
//!
//! [projects.api]
//! default_environment = "development"
//!
//! [projects.api.environments]
//! development = ".env"
//! staging = ".env.staging"
//! production = { file = ".env.production", protected = true }
//!
//! [projects.api.branches]             # git branch pattern → environment
//! "release/*" = "staging"
//! "*" = "development"
//! ```

use std::path::{Component, Path};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "envsync.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub remote: String,
    /// Seconds between polls when live updates are unavailable (`envsync watch`); 0 disables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_refresh_seconds: Option<u64>,
    pub projects: IndexMap<String, ProjectConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_environment: Option<String>,
    /// Environment name → linked file (relative to the workspace root), optionally protected.
    pub environments: IndexMap<String, EnvironmentEntry>,
    /// Git branch pattern → environment, for commands given no `--env` (see
    /// [`crate::selection`]). Never names a protected environment's way in: those take `--env`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub branches: IndexMap<String, String>,
    /// Where `envsync publish` copies environments (`[[projects.NAME.publish]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publish: Vec<PublishTarget>,
}

/// One `[projects.NAME.environments]` entry: a linked file, written as a plain string, or a
/// table when the environment is `protected` (never chosen for a command without `--env`,
/// so a branch or a local `envsync use` cannot aim an everyday `push` at production).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EnvironmentEntry {
    File(String),
    Table(EnvironmentTable),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentTable {
    pub file: String,
    #[serde(default)]
    pub protected: bool,
}

/// By hand rather than `untagged`, so a mistyped table says which field is wrong instead
/// of "data did not match any variant".
impl<'de> Deserialize<'de> for EnvironmentEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = EnvironmentEntry;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str(
                    r#"a linked file ("…") or a table ({ file = "…", protected = true })"#,
                )
            }

            fn visit_str<E: serde::de::Error>(self, file: &str) -> Result<Self::Value, E> {
                Ok(EnvironmentEntry::File(file.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let deserializer = serde::de::value::MapAccessDeserializer::new(map);
                EnvironmentTable::deserialize(deserializer).map(EnvironmentEntry::Table)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl EnvironmentEntry {
    /// The linked file, as written in `envsync.toml`.
    pub fn file(&self) -> &str {
        match self {
            EnvironmentEntry::File(file) => file,
            EnvironmentEntry::Table(table) => &table.file,
        }
    }

    pub fn is_protected(&self) -> bool {
        matches!(self, EnvironmentEntry::Table(table) if table.protected)
    }
}

impl From<&str> for EnvironmentEntry {
    fn from(file: &str) -> Self {
        EnvironmentEntry::File(file.to_owned())
    }
}

impl ProjectConfig {
    /// The environment `envsync.toml` makes the default: `default_environment`, else the
    /// first one. Its linked file is the one `envsync use` points at other environments.
    pub fn default_environment(&self) -> &str {
        self.default_environment
            .as_deref()
            .or_else(|| self.environments.keys().next().map(String::as_str))
            .unwrap_or_default()
    }

    pub fn is_protected(&self, environment: &str) -> bool {
        self.environments
            .get(environment)
            .is_some_and(EnvironmentEntry::is_protected)
    }
}

/// One `[[projects.NAME.publish]]` entry: an environment and the store it is published to.
/// Holds no credential: each store's come from its platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishTarget {
    pub environment: String,
    /// A store URL (`aws-sm://…`, `aws-ssm:///…/`, `vault://…`, …).
    pub to: String,
    /// Key patterns, `*` as a wildcard, `!` to exclude; the last match decides (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

impl PublishTarget {
    /// Whether `key` is published by this target's `keys` filter.
    pub fn includes(&self, key: &str) -> bool {
        let Some(patterns) = &self.keys else {
            return true;
        };
        let mut included = patterns.iter().all(|pattern| pattern.starts_with('!'));
        for pattern in patterns {
            let (negated, glob) = match pattern.strip_prefix('!') {
                Some(glob) => (true, glob),
                None => (false, pattern.as_str()),
            };
            if glob_matches(glob, key) {
                included = !negated;
            }
        }
        included
    }
}

/// `*` matches any run of characters (`/` included); everything else matches itself.
pub(crate) fn glob_matches(glob: &str, text: &str) -> bool {
    let mut parts = glob.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(index) => rest = &rest[index + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A malformed `envsync.toml`, located by line and column (1-based) where toml knows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*.line, *.column))]
pub struct ConfigError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{line}:{column}: "),
        (Some(line), None) => format!("{line}: "),
        _ => String::new(),
    }
}

impl ConfigError {
    fn plain(message: String) -> Self {
        Self {
            line: None,
            column: None,
            message,
        }
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| {
            let (line, column) = match error.span() {
                Some(span) => line_column(text, span.start),
                None => (None, None),
            };
            ConfigError {
                line,
                column,
                // Errors are one line: toml's multi-line hints are folded in.
                message: error
                    .message()
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Config always serialises")
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.remote.trim().is_empty() {
            return Err(ConfigError::plain("`remote` is empty".into()));
        }
        if self.projects.is_empty() {
            return Err(ConfigError::plain("no `[projects.NAME]` table".into()));
        }
        for (project, settings) in &self.projects {
            check_name("project", project)?;
            if settings.environments.is_empty() {
                return Err(ConfigError::plain(format!(
                    "project `{project}` has no `[projects.{project}.environments]` entries"
                )));
            }
            for (environment, entry) in &settings.environments {
                check_name("environment", environment)?;
                check_linked_file(project, environment, entry.file())?;
            }
            check_branches(project, settings)?;
            for target in &settings.publish {
                if !settings.environments.contains_key(&target.environment) {
                    return Err(ConfigError::plain(format!(
                        "project `{project}`: publish target `{}` names environment `{}`, \
                         which is not one of its environments",
                        target.to, target.environment
                    )));
                }
            }
            if let Some(default) = &settings.default_environment
                && !settings.environments.contains_key(default)
            {
                return Err(ConfigError::plain(format!(
                    "project `{project}`: default_environment `{default}` is not one of its environments"
                )));
            }
        }
        Ok(())
    }
}

/// Each branch pattern must name one of the project's environments; a pattern is a git
/// branch name in which `*` stands for any run of characters.
fn check_branches(project: &str, settings: &ProjectConfig) -> Result<(), ConfigError> {
    for (pattern, environment) in &settings.branches {
        if pattern.trim().is_empty() {
            return Err(ConfigError::plain(format!(
                "project `{project}`: an empty branch pattern in [projects.{project}.branches]"
            )));
        }
        if !settings.environments.contains_key(environment) {
            return Err(ConfigError::plain(format!(
                "project `{project}`: branch pattern `{pattern}` names environment \
                 `{environment}`, which is not one of its environments"
            )));
        }
    }
    Ok(())
}

/// Project and environment names become path segments and URL segments on every remote.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_name(what: &str, name: &str) -> Result<(), ConfigError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ConfigError::plain(format!(
            "invalid {what} name `{name}`: use letters, digits, `-`, `_` and `.`, starting with a letter or digit"
        )))
    }
}

/// Plaintext may only be written inside the workspace, so linked files are relative paths
/// that cannot climb out of it.
fn check_linked_file(project: &str, environment: &str, file: &str) -> Result<(), ConfigError> {
    let path = Path::new(file);
    let escapes = path
        .components()
        .any(|component| !matches!(component, Component::Normal(_) | Component::CurDir));
    if file.is_empty() || escapes {
        return Err(ConfigError::plain(format!(
            "{project}.{environment}: linked file `{file}` must be a relative path inside the workspace"
        )));
    }
    Ok(())
}

/// The 1-based line of byte `offset` in `text`, for errors that name where a TOML file
/// (envsync.toml, credentials, the user's settings) went wrong without quoting it.
pub fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

fn line_column(text: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = &text[..offset.min(text.len())];
    let line = line_at(text, offset);
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |rest| rest.chars().count())
        + 1;
    (Some(line), Some(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"remote = "../remote"

[projects.api]
default_environment = "development"

[projects.api.environments]
development = ".env"
production = "deploy/.env.production"
"#;

    #[test]
    fn parses_and_round_trips() {
        let config = Config::parse(GOOD).unwrap();
        assert_eq!(
            config.projects["api"].environments["production"].file(),
            "deploy/.env.production"
        );
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn malformed_toml_is_located() {
        let error = Config::parse("remote = \"x\"\n[projects.api\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.to_string().starts_with("2:"), "{error}");
    }

    #[test]
    fn unsafe_names_and_paths_are_refused() {
        let bad_path = GOOD.replace("deploy/.env.production", "../outside/.env");
        assert!(
            Config::parse(&bad_path)
                .unwrap_err()
                .message
                .contains("inside the workspace")
        );
        let bad_name = GOOD.replace("[projects.api]", "[projects.\"a/b\"]");
        assert!(Config::parse(&bad_name).is_err());
        let unknown = GOOD.replace("remote =", "remot =");
        assert!(Config::parse(&unknown).is_err());
    }
}

#[cfg(test)]
mod branch_tests {
    use super::*;

    const BRANCHED: &str = r#"remote = "../remote"

[projects.app.environments]
development = ".env"
staging = ".env.staging"
production = { file = ".env.production", protected = true }

[projects.app.branches]
"release/*" = "staging"
"*" = "development"
"#;

    #[test]
    fn protected_tables_and_branch_maps_parse_and_round_trip() {
        let config = Config::parse(BRANCHED).unwrap();
        let app = &config.projects["app"];
        assert_eq!(app.environments["production"].file(), ".env.production");
        assert!(app.is_protected("production") && !app.is_protected("staging"));
        assert_eq!(app.branches["release/*"], "staging");
        assert_eq!(app.default_environment(), "development");
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn branch_maps_must_name_known_environments() {
        let unknown = BRANCHED.replace("\"*\" = \"development\"", "\"*\" = \"qa\"");
        let error = Config::parse(&unknown).unwrap_err();
        assert!(error.message.contains("`qa`"), "{error}");
        let bad_table = BRANCHED.replace("protected = true", "protect = true");
        assert!(Config::parse(&bad_table).is_err());
    }
}

#[cfg(test)]
mod publish_tests {
    use super::*;

    fn target(keys: &[&str]) -> PublishTarget {
        PublishTarget {
            environment: "production".into(),
            to: "aws-sm://x".into(),
            keys: Some(keys.iter().map(|key| (*key).to_owned()).collect()),
        }
    }

    #[test]
    fn key_filters_take_the_last_matching_pattern() {
        let filter = target(&["*", "!LOCAL_*"]);
        assert!(filter.includes("API_KEY") && !filter.includes("LOCAL_DB"));
        let only = target(&["API_*", "DB_URL"]);
        assert!(only.includes("API_KEY") && only.includes("DB_URL") && !only.includes("OTHER"));
        let except = target(&["!*_TEST"]);
        assert!(except.includes("A") && !except.includes("A_TEST"));
        assert!(glob_matches("A*B*C", "AxxBxxC") && !glob_matches("A*B", "AB_"));
    }
}
