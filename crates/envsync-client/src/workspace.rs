//! The workspace: the directory holding `envsync.toml`, and the environments it links.

use std::path::{Component, Path, PathBuf};

use envsync_core::config::{self, Config};

use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};

pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
}

/// One environment of one project, with its linked file resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub place: EnvironmentRef,
    /// As written in `envsync.toml`, for messages.
    pub file_label: String,
    pub file: PathBuf,
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
        }
    }

    /// Whether a linked file goes with this target (see [`Target::unlinked`]).
    pub fn is_linked(&self) -> bool {
        !self.file.as_os_str().is_empty()
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
            return Err(ClientError::NoSuchEnvironment {
                project: project.to_owned(),
                environment: environment.to_owned(),
                known: settings.environments.keys().cloned().collect(),
            });
        };
        Ok(self.make_target(EnvironmentRef::new(project, environment), file))
    }

    /// Refuses environment names `envsync.toml` does not give `project`: an invite or a
    /// bundle naming `prodution` would grant access to nothing, silently.
    pub fn require_environments(&self, project: &str, names: &[String]) -> Result<()> {
        let project = self.project_name(Some(project))?;
        let known = &self.config.projects[project].environments;
        let unknown: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|name| !known.contains_key(*name))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = known.keys().map(String::as_str).collect();
        Err(ClientError::Input(format!(
            "project `{project}` has no environment {} in envsync.toml (it has: {})",
            unknown
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
            known.join(", ")
        )))
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
                    .map(move |(environment, file)| {
                        self.make_target(EnvironmentRef::new(name, environment), file)
                    })
            })
            .collect())
    }

    /// The path to read and write `target`'s linked file at: its real path, once neither the
    /// file nor any directory between it and the workspace root is a symlink that leaves
    /// the workspace. Every read and write of a linked file goes through here, so a clone
    /// whose `.env` links to `~/.ssh/id_ed25519`, or whose `deploy/` links to `/tmp`, can
    /// neither upload that file nor receive plaintext there. A symlink that stays inside is
    /// followed, so a write goes to the file it names and the link itself is kept.
    pub fn linked_file(&self, target: &Target) -> Result<PathBuf> {
        let io = |what: &Path, error| ClientError::io(format!("reading {}", what.display()), error);
        let root = self
            .root
            .canonicalize()
            .map_err(|error| io(&self.root, error))?;
        let mut current = root.clone();
        let mut written = PathBuf::new();
        for component in Path::new(&target.file_label).components() {
            let Component::Normal(name) = component else {
                continue;
            };
            written.push(name);
            current.push(name);
            let metadata = match std::fs::symlink_metadata(&current) {
                Ok(metadata) => metadata,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(io(&current, error)),
            };
            if metadata.file_type().is_symlink() {
                current = self.inside(target, &written, &current, &root)?;
            }
        }
        Ok(current)
    }

    /// Where the symlink `link` resolves to, if that is inside `root`.
    fn inside(&self, target: &Target, written: &Path, link: &Path, root: &Path) -> Result<PathBuf> {
        let outside = |resolved: PathBuf| ClientError::LinkOutsideWorkspace {
            file: target.file_label.clone(),
            link: written.display().to_string(),
            target: resolved,
            root: self.root.clone(),
        };
        if let Ok(resolved) = link.canonicalize() {
            return if resolved.starts_with(root) {
                Ok(resolved)
            } else {
                Err(outside(resolved))
            };
        }
        // A dangling link (a first pull): what it names is inside when its directory is.
        let pointed = std::fs::read_link(link).unwrap_or_default();
        let full = link.parent().unwrap_or(root).join(&pointed);
        match (full.parent().map(Path::canonicalize), full.file_name()) {
            (Some(Ok(directory)), Some(name)) if directory.starts_with(root) => {
                Ok(directory.join(name))
            }
            _ => Err(outside(pointed)),
        }
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

    fn make_target(&self, place: EnvironmentRef, file: &str) -> Target {
        Target {
            place,
            file_label: file.to_owned(),
            file: self.root.join(file),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn workspace(root: &Path, file: &str) -> (Workspace, Target) {
        let config = format!(
            "remote = \"../remote\"\n[projects.app.environments]\ndevelopment = \"{file}\"\n"
        );
        std::fs::write(root.join(config::FILE_NAME), config).unwrap();
        let workspace = Workspace::load(root).unwrap();
        let target = workspace.target(None, None).unwrap();
        (workspace, target)
    }

    #[test]
    fn links_are_followed_inside_the_workspace_and_refused_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("workspace/config")).unwrap();
        let root = dir.path().join("workspace").canonicalize().unwrap();
        let (workspace, target) = workspace(&root, ".env");
        assert_eq!(workspace.linked_file(&target).unwrap(), root.join(".env"));
        // Dangling, but into the workspace: the file it will name.
        symlink("config/dev.env", root.join(".env")).unwrap();
        let inside = workspace.linked_file(&target).unwrap();
        assert_eq!(inside, root.join("config/dev.env"));
        std::fs::remove_file(root.join(".env")).unwrap();
        for outside in ["../elsewhere.env", "/etc/passwd", "config/../../x"] {
            symlink(outside, root.join(".env")).unwrap();
            let error = workspace.linked_file(&target).unwrap_err();
            assert!(
                matches!(error, ClientError::LinkOutsideWorkspace { .. }),
                "{outside}: {error}"
            );
            assert_eq!(error.kind(), crate::error::ErrorKind::Input);
            std::fs::remove_file(root.join(".env")).unwrap();
        }
    }
}
