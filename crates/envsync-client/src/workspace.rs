//! The workspace: the directory holding `envsync.toml`, and the environments it links.

use std::path::{Path, PathBuf};

use envsync_core::config::{self, Config};

use crate::error::{ClientError, Result};

pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
}

/// One environment of one project, with its linked file resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub project: String,
    pub environment: String,
    /// As written in `envsync.toml`, for messages.
    pub file_label: String,
    pub file: PathBuf,
}

/// `project/environment`, as every message names an environment.
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.project, self.environment)
    }
}

impl Workspace {
    /// Finds `envsync.toml` in `start` or the nearest parent, as git finds `.git`.
    pub fn discover(start: &Path) -> Result<Self> {
        let mut directory = Some(start);
        while let Some(current) = directory {
            if current.join(config::FILE_NAME).is_file() {
                return Self::load(current);
            }
            directory = current.parent();
        }
        Err(ClientError::NoWorkspace(start.to_path_buf()))
    }

    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(config::FILE_NAME);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| ClientError::io(format!("reading {}", path.display()), error))?;
        let config = Config::parse(&text).map_err(|source| ClientError::Config { path, source })?;
        Ok(Self {
            root: root.to_path_buf(),
            config,
        })
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".envsync")
    }

    /// Resolves `--project` / `--env`, defaulting to the only project and to its
    /// `default_environment` (else its first environment).
    pub fn target(&self, project: Option<&str>, environment: Option<&str>) -> Result<Target> {
        let project = self.project_name(project)?;
        let settings = &self.config.projects[project];
        let environment = match environment {
            Some(name) => name,
            None => settings
                .default_environment
                .as_deref()
                .or_else(|| settings.environments.keys().next().map(String::as_str))
                .unwrap_or_default(),
        };
        let Some(file) = settings.environments.get(environment) else {
            let known: Vec<_> = settings.environments.keys().map(String::as_str).collect();
            return Err(ClientError::Input(format!(
                "project `{project}` has no environment `{environment}` in envsync.toml (it has: {})",
                known.join(", ")
            )));
        };
        Ok(self.make_target(project, environment, file))
    }

    /// Every environment of every project (or of one project), in `envsync.toml` order.
    pub fn targets(&self, project: Option<&str>) -> Result<Vec<Target>> {
        if let Some(project) = project {
            self.project_name(Some(project))?;
        }
        Ok(self
            .config
            .projects
            .iter()
            .filter(|(name, _)| project.is_none_or(|wanted| wanted == name.as_str()))
            .flat_map(|(name, settings)| {
                settings
                    .environments
                    .iter()
                    .map(move |(environment, file)| self.make_target(name, environment, file))
            })
            .collect())
    }

    fn project_name<'a>(&'a self, project: Option<&'a str>) -> Result<&'a str> {
        let projects = &self.config.projects;
        let known = || {
            projects
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match project {
            Some(name) if projects.contains_key(name) => Ok(name),
            Some(name) => Err(ClientError::Input(format!(
                "no project `{name}` in envsync.toml (it has: {})",
                known()
            ))),
            None if projects.len() == 1 => Ok(projects
                .keys()
                .next()
                .map(String::as_str)
                .unwrap_or_default()),
            None => Err(ClientError::Input(format!(
                "envsync.toml holds several projects: pass --project (one of {})",
                known()
            ))),
        }
    }

    fn make_target(&self, project: &str, environment: &str, file: &str) -> Target {
        Target {
            project: project.to_owned(),
            environment: environment.to_owned(),
            file_label: file.to_owned(),
            file: self.root.join(file),
        }
    }
}
