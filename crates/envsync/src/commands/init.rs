use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::files::write_atomic;
use envsync_client::remote::RemoteSpec;
use envsync_client::{ClientError, EnvironmentRef};
use envsync_core::config::{self, Config, ProjectConfig};
use indexmap::IndexMap;

use crate::cli::InitArgs;
use crate::output::Initialised;
use crate::printer::Printer;
use crate::settings::Settings;

/// Writes `envsync.toml` (or adds a project or environment to it), and git-ignores the
/// linked file and `.envsync/`.
pub fn run(args: InitArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let root = settings.directory.as_path();
    let config_path = root.join(config::FILE_NAME);
    let mut config = config_to_extend(&args, settings, &config_path)?;
    let project = match args.project.clone() {
        Some(project) => project,
        None => default_project_name(root),
    };
    let place = EnvironmentRef::new(project, args.environment);
    link(&mut config, &place, &args.file)?;
    // Validate exactly as every later command will read it.
    let text = config.to_toml();
    Config::parse(&text).map_err(|source| ClientError::Config {
        path: config_path.clone(),
        source,
    })?;
    write_atomic(&config_path, text.as_bytes())?;
    let ignored = ensure_gitignored(
        root,
        &[
            &format!("/{}", args.file.trim_start_matches("./")),
            "/.envsync/",
        ],
    )?;
    // The advice may ask the remote: only a person reads it.
    let next_step = if printer.json {
        String::new()
    } else {
        next_step(settings, &place, &args.file)
    };
    let readable_by = match RemoteSpec::parse(&config.remote)? {
        RemoteSpec::Git(location) => Some(location.readers()),
        _ => None,
    };
    printer.emit(&Initialised {
        config: config_path.display().to_string(),
        readable_by,
        project: place.project,
        environment: place.environment,
        file: args.file,
        gitignore_added: ignored,
        next_step,
    });
    Ok(ExitCode::SUCCESS)
}

/// The configuration `init` adds to: the existing `envsync.toml`, or a new one naming
/// `--remote`. An existing file keeps its remote: `--remote` may repeat it, not change it.
fn config_to_extend(args: &InitArgs, settings: &Settings, config_path: &Path) -> Result<Config> {
    if let Some(remote) = &args.remote {
        RemoteSpec::parse(remote)?;
    }
    let config = if config_path.exists() {
        settings.workspace()?.config
    } else {
        let remote = args.remote.clone().ok_or_else(|| {
            ClientError::Input(
                "--remote is required: where should versions live (an envsync server URL, a bucket URL or a shared folder path)?".into(),
            )
        })?;
        Config {
            remote,
            auto_refresh_seconds: None,
            projects: IndexMap::new(),
        }
    };
    if let Some(remote) = &args.remote
        && remote != &config.remote
    {
        return Err(ClientError::Input(format!(
            "envsync.toml already names remote `{}`; edit it by hand to change remotes",
            config.remote
        ))
        .into());
    }
    Ok(config)
}

/// Links `place` to `file` in the configuration; an environment already linked is refused,
/// since relinking it would silently point teammates' pulls at another file.
fn link(config: &mut Config, place: &EnvironmentRef, file: &str) -> Result<()> {
    let entry = config
        .projects
        .entry(place.project.clone())
        .or_insert_with(|| ProjectConfig {
            default_environment: None,
            environments: IndexMap::new(),
            branches: IndexMap::new(),
            publish: Vec::new(),
        });
    if let Some(linked) = entry.environments.get(&place.environment) {
        return Err(ClientError::Input(format!(
            "envsync.toml already links {place} to {}",
            linked.file()
        ))
        .into());
    }
    entry
        .environments
        .insert(place.environment.clone(), file.into());
    Ok(())
}

/// What to run next, from whether the file exists and what the remote holds: pulling an
/// environment that has no versions yet would fetch nothing.
fn next_step(settings: &Settings, place: &EnvironmentRef, file: &str) -> String {
    let head = settings.session().ok().and_then(|session| {
        // A bucket is not asked: an unreachable one retries for a while, too long for advice.
        if RemoteSpec::parse(&session.workspace.config.remote).is_ok_and(|spec| spec.is_bucket()) {
            return None;
        }
        let target = session
            .workspace
            .target(Some(&place.project), Some(&place.environment))
            .ok()?;
        session.head_for_advice(&target)
    });
    let exists = settings.directory.join(file).exists();
    match (head, exists) {
        (Some(None), true) => {
            format!("next: `envsync push -m \"first version\"` publishes {file} as version 1")
        }
        (Some(None), false) => format!(
            "next: write your variables into {file}, then `envsync push` creates the environment"
        ),
        (Some(Some(head)), _) => format!(
            "next: `envsync pull` fetches version {head} (or `envsync sync` to merge {file} with it)"
        ),
        (None, true) => format!(
            "next: `envsync push -m \"first version\"` to publish {file}, or `envsync sync` if the environment already has versions"
        ),
        (None, false) => format!(
            "next: `envsync pull` if the environment already has versions, else write {file} and `envsync push`"
        ),
    }
}

fn default_project_name(root: &Path) -> String {
    let name: String = root
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("project")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(['-', '_', '.']).to_owned();
    if name.is_empty() {
        "project".into()
    } else {
        name
    }
}

/// Adds the lines `.gitignore` lacks; returns those added.
fn ensure_gitignored(root: &Path, patterns: &[&str]) -> Result<Vec<String>> {
    let path = root.join(".gitignore");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let present = |pattern: &str| {
        let bare = pattern.trim_start_matches('/');
        existing.lines().map(str::trim).any(|line| {
            line == pattern
                || line == bare
                || line.trim_end_matches('/') == bare.trim_end_matches('/')
        })
    };
    let missing: Vec<String> = patterns
        .iter()
        .filter(|pattern| !present(pattern))
        .map(|pattern| pattern.to_string())
        .collect();
    if !missing.is_empty() {
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for pattern in &missing {
            text.push_str(pattern);
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(|error| ClientError::Io {
            what: format!("writing {}", path.display()),
            source: error,
        })?;
    }
    Ok(missing)
}
