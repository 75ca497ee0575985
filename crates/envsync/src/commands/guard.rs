//! The git guard: refuses commits that would add plaintext secrets. It never prints a value.

mod key_material;
mod linked_values;
mod staged;
mod workspaces;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_core::dotenv::Document;

use crate::cli::{GuardAction, GuardArgs};
use crate::output::{Guard, GuardProblem};
use crate::printer::Printer;
use crate::settings::Settings;
use linked_values::{LinkedValues, linked_secrets};
use staged::{git, staged_files};
use workspaces::linked_files;

const HOOK_MARKER: &str = "# envsync guard";
const CHAINED_SUFFIX: &str = ".envsync-chained";

pub fn run(args: GuardArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match args.action {
        Some(GuardAction::Install) => install(settings, printer),
        None => check(&args, settings, printer),
    }
}

struct Problem {
    file: String,
    line: Option<usize>,
    message: String,
}

fn check(args: &GuardArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let targets = linked_files(&settings.directory, printer);
    let secrets = LinkedValues::new(linked_secrets(&targets, printer))?;
    let linked: Vec<(PathBuf, String)> = targets
        .iter()
        .map(|linked| (canonical(&linked.path), linked.target.place.to_string()))
        .collect();
    let files = if args.staged {
        staged_files(&settings.directory)?
    } else {
        let mut files = Vec::new();
        for path in &args.paths {
            let full = settings.directory.join(path);
            let bytes = std::fs::read(&full).map_err(|error| ClientError::Io {
                what: format!("reading {}", path.display()),
                source: error,
            })?;
            files.push((full, path.display().to_string(), bytes));
        }
        files
    };
    let mut problems = Vec::new();
    for (full, label, bytes) in &files {
        inspect(full, label, bytes, &linked, &secrets, &mut problems);
    }
    let unstage = args.staged || any_staged(&settings.directory, &problems);
    report(&problems, files.len(), unstage, printer)
}

/// Whether git has any of the files with problems staged: only then is `git restore
/// --staged` advice; outside a repository, or for files not staged, it is not.
fn any_staged(directory: &Path, problems: &[Problem]) -> bool {
    problems.iter().any(|problem| {
        git(
            directory,
            &["diff", "--cached", "--name-only", "--", &problem.file],
        )
        .is_ok_and(|names| !names.trim_ascii().is_empty())
    })
}

fn inspect(
    full: &Path,
    label: &str,
    bytes: &[u8],
    linked: &[(PathBuf, String)],
    secrets: &LinkedValues,
    problems: &mut Vec<Problem>,
) {
    let resolved = canonical(full);
    for (file, origin) in linked {
        if *file == resolved {
            problems.push(Problem {
                file: label.to_owned(),
                line: None,
                message: format!(
                    "is the linked env file of {origin}; keep it out of git (envsync syncs it)"
                ),
            });
            return;
        }
    }
    if looks_like_env_file(full)
        && let Ok(text) = std::str::from_utf8(bytes)
        && let Some(entry) = Document::parse(text)
            .entries()
            .into_iter()
            .find(|entry| !entry.value.is_empty())
    {
        problems.push(Problem {
            file: label.to_owned(),
            line: Some(entry.line),
            message: format!(
                "plaintext .env file with values (`{}`); push it with envsync instead",
                entry.key
            ),
        });
        return;
    }
    for (position, secret) in secrets.find_in(bytes) {
        problems.push(Problem {
            file: label.to_owned(),
            line: Some(line_of(bytes, position)),
            message: format!("contains the value of {}", secret.origin),
        });
    }
    for (position, kind) in key_material::find_all(bytes) {
        problems.push(Problem {
            file: label.to_owned(),
            line: Some(line_of(bytes, position)),
            message: kind.describe().to_owned(),
        });
    }
}

/// The 1-based line of a byte offset.
fn line_of(bytes: &[u8], position: usize) -> usize {
    bytes[..position]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

fn report(
    problems: &[Problem],
    checked: usize,
    unstage: bool,
    printer: &Printer,
) -> Result<ExitCode> {
    let guard = Guard {
        checked,
        problems: problems
            .iter()
            .map(|problem| GuardProblem {
                file: problem.file.clone(),
                line: problem.line,
                problem: problem.message.clone(),
            })
            .collect(),
    };
    printer.emit(&guard);
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let advice = if unstage {
        "unstage those files (`git restore --staged FILE`) or remove the values"
    } else {
        "remove the values, or keep those files out of git"
    };
    printer.message(format!(
        "error: envsync guard found {} problem(s); {advice}",
        problems.len()
    ));
    Ok(ExitCode::from(1))
}

/// The path with links resolved, so `./.env` and a symlinked checkout compare equal; a path
/// that does not exist stays as given.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// `.env`, `.env.production`, `prod.env`, but not `.env.example` and other templates.
fn looks_like_env_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    let env_like = name == ".env" || name.starts_with(".env.") || name.ends_with(".env");
    let template = ["example", "sample", "template", "dist", "defaults"]
        .iter()
        .any(|word| name.contains(word));
    env_like && !template
}

/// Installs the pre-commit hook; an existing hook is renamed and run after the guard.
fn install(settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let hooks = git(&settings.directory, &["rev-parse", "--git-path", "hooks"])?;
    let hooks = settings
        .directory
        .join(String::from_utf8_lossy(&hooks).trim());
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(format!("pre-commit{CHAINED_SUFFIX}"));
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if existing.contains(HOOK_MARKER) {
            printer.message(format!(
                "the envsync guard is already installed in {}",
                hook.display()
            ));
            return Ok(ExitCode::SUCCESS);
        }
        if chained.exists() {
            return Err(ClientError::Input(format!(
                "{} and {} both exist; merge them by hand",
                hook.display(),
                chained.display()
            ))
            .into());
        }
        std::fs::rename(&hook, &chained).map_err(|error| ClientError::Io {
            what: format!("moving the existing hook to {}", chained.display()),
            source: error,
        })?;
        printer.message(format!(
            "kept your existing hook; it now runs after the guard from {}",
            chained.display()
        ));
    }
    write_hook(&hooks, &hook, &hook_script()?)?;
    printer.message(format!("installed the envsync guard as {}", hook.display()));
    Ok(ExitCode::SUCCESS)
}

/// The hook: it runs this binary's guard (or `envsync` on PATH if this one moved), then the
/// hook it replaced, if any.
fn hook_script() -> Result<String> {
    let binary = std::env::current_exe().map_err(|error| ClientError::Io {
        what: "locating the envsync binary".into(),
        source: error,
    })?;
    Ok(format!(
        "#!/bin/sh\n{HOOK_MARKER}: refuses commits that add plaintext secrets (`envsync guard install`)\n\
         envsync='{}'\n\
         [ -x \"$envsync\" ] || envsync=envsync\n\
         \"$envsync\" guard --staged || exit $?\n\
         chained=\"$(dirname \"$0\")/pre-commit{CHAINED_SUFFIX}\"\n\
         if [ -x \"$chained\" ]; then exec \"$chained\" \"$@\"; fi\n",
        binary.display().to_string().replace('\'', "'\\''")
    ))
}

/// Writes the hook executable, creating the hooks folder if git has none yet.
fn write_hook(hooks: &Path, hook: &Path, script: &str) -> Result<()> {
    std::fs::create_dir_all(hooks)
        .and_then(|()| std::fs::write(hook, script))
        .map_err(|error| ClientError::Io {
            what: format!("writing {}", hook.display()),
            source: error,
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(hook, std::fs::Permissions::from_mode(0o755)).map_err(
            |error| ClientError::Io {
                what: format!("making {} executable", hook.display()),
                source: error,
            },
        )?;
    }
    Ok(())
}
