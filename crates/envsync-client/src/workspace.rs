//! The workspace: the directory holding `envsync.toml`, and the environments it links.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use envsync_core::config::{self, Config};
use envsync_core::selection::{self, BranchOrigin, Selection, Source};

use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};

pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
    /// Project → the environment `envsync use` pointed its default file at, on this machine.
    uses: BTreeMap<String, String>,
    /// The current git branch, asked of git once and only when a branch map needs it.
    branch: OnceCell<Option<selection::Branch>>,
    /// The root's real path, resolved once: every linked file is checked against it, and
    /// resolving it walks each of its ancestors (a `readlink` apiece).
    real_root: OnceCell<PathBuf>,
}

pub use crate::target::{Link, Target};

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
        let uses = crate::choice::read_uses(&root.join(".envsync"), config.projects.keys())?;
        Ok(Self {
            root: root.to_path_buf(),
            config,
            uses,
            branch: OnceCell::new(),
            real_root: OnceCell::new(),
        })
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".envsync")
    }

    /// Resolves `--project` / `--env`, defaulting to the only project and to the environment
    /// [`Workspace::selection`] chooses. A protected environment chosen without `--env` is
    /// refused: it takes its name on the command line.
    pub fn target(&self, project: Option<&str>, environment: Option<&str>) -> Result<Target> {
        let project = self.project_name(project)?;
        let selection = self.selection(project, environment);
        let settings = &self.config.projects[project];
        if settings.environments.contains_key(&selection.environment)
            && selection.needs_explicit_env(settings)
        {
            return Err(ClientError::ProtectedNeedsEnv {
                place: EnvironmentRef::new(project, &selection.environment),
                chosen_by: chosen_by(&selection.source),
            });
        }
        self.target_for(project, &selection.environment)
    }

    /// Which environment of `project` a command acts on (`explicit` is `--env`), in the
    /// order `envsync_core::selection` documents.
    pub fn selection(&self, project: &str, explicit: Option<&str>) -> Selection {
        let settings = &self.config.projects[project];
        let used = self.used(project);
        selection::select(settings, explicit, used, || {
            self.branch
                .get_or_init(|| crate::choice::current_branch(&self.root))
                .clone()
        })
    }

    /// The environment `envsync use` pointed `project`'s default file at, if any.
    /// A record naming an environment `envsync.toml` no longer has is ignored.
    pub fn used(&self, project: &str) -> Option<&str> {
        let known = &self.config.projects.get(project)?.environments;
        self.uses
            .get(project)
            .map(String::as_str)
            .filter(|environment| known.contains_key(*environment))
    }

    /// The project `--project` names, else the only one.
    pub fn project(&self, project: Option<&str>) -> Result<String> {
        self.project_name(project).map(str::to_owned)
    }

    /// `environment` of `project` with its file as this machine has it: the default file
    /// when `envsync use` points it there; [`Link::Displaced`] when its file holds another.
    pub fn target_for(&self, project: &str, environment: &str) -> Result<Target> {
        let settings = &self.config.projects[project];
        let Some(entry) = settings.environments.get(environment) else {
            return Err(ClientError::NoSuchEnvironment {
                project: project.to_owned(),
                environment: environment.to_owned(),
                known: settings.environments.keys().cloned().collect(),
            });
        };
        let place = EnvironmentRef::new(project, environment);
        let default = settings.default_environment();
        let default_file = settings.environments[default].file();
        let holder = self.used(project).filter(|holder| *holder != default);
        let (file, link) = match holder {
            Some(holder) if holder == environment => (default_file, Link::Used),
            Some(holder) if entry.file() == default_file => (
                entry.file(),
                Link::Displaced {
                    holder: holder.to_owned(),
                },
            ),
            _ => (entry.file(), Link::Configured),
        };
        Ok(self.make_target(place, file, link))
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
        self.config
            .projects
            .iter()
            .filter(|(name, _)| project.is_none_or(|wanted| wanted == name.as_str()))
            .flat_map(|(name, settings)| {
                settings
                    .environments
                    .keys()
                    .map(move |environment| self.target_for(name, environment))
            })
            .collect()
    }

    /// Every environment with the file `envsync.toml` links to it, whatever `envsync use`
    /// chose: for `guard`, which must watch every file envsync ever wrote plaintext into.
    pub fn configured_targets(&self) -> Vec<Target> {
        self.config
            .projects
            .iter()
            .flat_map(|(name, settings)| {
                settings
                    .environments
                    .iter()
                    .map(move |(environment, entry)| {
                        let place = EnvironmentRef::new(name, environment);
                        self.make_target(place, entry.file(), Link::Configured)
                    })
            })
            .collect()
    }

    /// Where `target`'s linked file is when its label is one plain name (`.env`): in the
    /// workspace's root, with no directory between that could be a link to check. `None`
    /// for a label with directories and for a displaced link: [`Workspace::linked_file`]
    /// answers for those. The file itself may still be a link, which a reader must not
    /// follow (`files::read_unless_link`).
    pub fn plain_linked_file(&self, target: &Target) -> Option<PathBuf> {
        if matches!(target.link, Link::Displaced { .. }) {
            return None;
        }
        let mut components = Path::new(&target.file_label).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(name)), None) => Some(self.root.join(name)),
            _ => None,
        }
    }

    /// The path to read and write `target`'s linked file at: its real path, once neither the
    /// file nor any directory between it and the workspace root is a symlink that leaves
    /// the workspace. Every read and write of a linked file goes through here, so a clone
    /// whose `.env` links to `~/.ssh/id_ed25519`, or whose `deploy/` links to `/tmp`, can
    /// neither upload that file nor receive plaintext there. A symlink that stays inside is
    /// followed, so a write goes to the file it names and the link itself is kept.
    pub fn linked_file(&self, target: &Target) -> Result<PathBuf> {
        if let Link::Displaced { holder } = &target.link {
            return Err(ClientError::FileHeldByUse {
                project: target.project.clone(),
                environment: target.environment.clone(),
                file: target.file_label.clone(),
                holder: holder.clone(),
            });
        }
        let io = |what: &Path, error| ClientError::io(format!("reading {}", what.display()), error);
        let root = match self.real_root.get() {
            Some(root) => root,
            None => {
                let resolved = self.root.canonicalize();
                let resolved = resolved.map_err(|error| io(&self.root, error))?;
                self.real_root.get_or_init(|| resolved)
            }
        };
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
                current = self.inside(target, &written, &current, root)?;
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

    fn make_target(&self, place: EnvironmentRef, file: &str, link: Link) -> Target {
        Target {
            place,
            file_label: file.to_owned(),
            file: self.root.join(file),
            link,
        }
    }
}

/// What chose an environment, for messages ("branch `main` (pattern `main`)").
pub fn chosen_by(source: &Source) -> String {
    match source {
        Source::Flag => "--env".to_owned(),
        Source::Use => "`envsync use`".to_owned(),
        Source::Branch { branch, pattern } => match branch.origin {
            BranchOrigin::Checkout => format!("branch `{}` (pattern `{pattern}`)", branch.name),
            BranchOrigin::Variable(variable) => {
                format!(
                    "branch `{}` of {variable} (pattern `{pattern}`)",
                    branch.name
                )
            }
        },
        Source::Default => "envsync.toml's default_environment".to_owned(),
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

    #[test]
    fn use_points_the_default_file_at_another_environment() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = "remote = \"../remote\"\n[projects.app.environments]\n\
                      development = \".env\"\nstaging = \".env.staging\"\n";
        std::fs::write(root.join(config::FILE_NAME), config).unwrap();
        crate::choice::write_use(&root.join(".envsync"), "app", Some("staging")).unwrap();
        let workspace = Workspace::load(root).unwrap();
        let staging = workspace.target(None, None).unwrap();
        assert_eq!(
            (staging.environment.as_str(), &staging.link),
            ("staging", &Link::Used)
        );
        assert_eq!(
            (staging.file_label.as_str(), staging.state_name()),
            (".env", "staging@use".into())
        );
        let development = workspace.target(None, Some("development")).unwrap();
        assert!(development.is_displaced() && !development.is_linked());
        let error = workspace.linked_file(&development).unwrap_err();
        assert!(
            matches!(error, ClientError::FileHeldByUse { .. }),
            "{error}"
        );
        // A record naming an environment envsync.toml dropped is ignored.
        crate::choice::write_use(&root.join(".envsync"), "app", Some("qa")).unwrap();
        let workspace = Workspace::load(root).unwrap();
        assert_eq!(workspace.target(None, None).unwrap().link, Link::Configured);
    }
}
