//! The git guard: refuses commits that would add plaintext secrets. It never prints a value.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use aho_corasick::AhoCorasick;
use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::workspace::Workspace;
use envsync_core::dotenv::Document;

use crate::cli::{GuardAction, GuardArgs};

mod key_material;
use crate::printer::Printer;
use crate::settings::Settings;

/// Values shorter than this are too likely to occur by chance (`true`, `3000`, `dev`).
const MIN_SECRET_LENGTH: usize = 8;
const HOOK_MARKER: &str = "# envsync guard";
const CHAINED_SUFFIX: &str = ".envsync-chained";

pub fn run(args: GuardArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    match args.action {
        Some(GuardAction::Install) => install(settings, printer),
        None => check(&args, settings, printer),
    }
}

/// One linked value to look for, by where it comes from.
struct Secret {
    value: String,
    origin: String,
}

/// Every linked value in one automaton, so a file is read once however many values there
/// are: a commit of a few megabytes against 1,000 linked values stays in milliseconds.
struct LinkedValues {
    secrets: Vec<Secret>,
    automaton: AhoCorasick,
}

impl LinkedValues {
    fn new(secrets: Vec<Secret>) -> Result<Self> {
        let automaton = AhoCorasick::new(secrets.iter().map(|secret| secret.value.as_bytes()))
            .map_err(|error| {
                ClientError::Input(format!(
                    "cannot search for {} linked values: {error}",
                    secrets.len()
                ))
            })?;
        Ok(Self { secrets, automaton })
    }

    /// Each value found in `bytes`, at its first position, in the order they appear.
    fn find_in(&self, bytes: &[u8]) -> Vec<(usize, &Secret)> {
        let mut first = vec![None; self.secrets.len()];
        // Overlapping: a value that contains another must not hide it.
        for found in self.automaton.find_overlapping_iter(bytes) {
            first[found.pattern().as_usize()].get_or_insert(found.start());
        }
        let mut found: Vec<_> = first
            .into_iter()
            .zip(&self.secrets)
            .filter_map(|(position, secret)| position.map(|position| (position, secret)))
            .collect();
        found.sort_by_key(|(position, _)| *position);
        found
    }
}

struct Problem {
    file: String,
    line: Option<usize>,
    message: String,
}

fn check(args: &GuardArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let workspace = Workspace::discover(&settings.directory).ok();
    let secrets = LinkedValues::new(workspace.as_ref().map(linked_secrets).unwrap_or_default())?;
    let linked: Vec<(PathBuf, String)> = workspace
        .as_ref()
        .and_then(|workspace| workspace.targets(None).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|target| {
            (
                canonical(&target.file),
                format!("{}/{}", target.project, target.environment),
            )
        })
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
    report(&problems, files.len(), printer)
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

fn report(problems: &[Problem], checked: usize, printer: &Printer) -> Result<ExitCode> {
    if printer.json {
        let list: Vec<_> = problems
            .iter()
            .map(|problem| serde_json::json!({"file": problem.file, "line": problem.line, "problem": problem.message}))
            .collect();
        printer.json(&serde_json::json!({ "checked": checked, "problems": list }));
    } else {
        for problem in problems {
            match problem.line {
                Some(line) => printer.data(format!("{}:{line}: {}", problem.file, problem.message)),
                None => printer.data(format!("{}: {}", problem.file, problem.message)),
            }
        }
    }
    if problems.is_empty() {
        if !printer.json {
            printer.message(format!(
                "envsync guard: {checked} file(s) checked, no plaintext secrets"
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    printer.message(format!(
        "error: envsync guard found {} problem(s); unstage those files (`git restore --staged FILE`) or remove the values",
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

/// Values of at least [`MIN_SECRET_LENGTH`] characters from every linked file present.
fn linked_secrets(workspace: &Workspace) -> Vec<Secret> {
    let mut secrets = Vec::new();
    for target in workspace.targets(None).unwrap_or_default() {
        let Ok(text) = std::fs::read_to_string(&target.file) else {
            continue;
        };
        for (key, value) in Document::parse(&text).vars() {
            if value.chars().count() >= MIN_SECRET_LENGTH {
                secrets.push(Secret {
                    value,
                    origin: format!("{}/{} `{key}`", target.project, target.environment),
                });
            }
        }
    }
    secrets
}

fn git(directory: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .args(args)
        .current_dir(directory)
        .output()
        .map_err(|error| ClientError::Io {
            what: "running git".into(),
            source: error,
        })?;
    if !output.status.success() {
        return Err(ClientError::Input(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
        .into());
    }
    Ok(output.stdout)
}

/// Staged files that add or change content, with their staged bytes: one `git diff` for the
/// list and one `git cat-file --batch` for all the blobs, however many files are staged.
fn staged_files(directory: &Path) -> Result<Vec<(PathBuf, String, Vec<u8>)>> {
    let top = String::from_utf8_lossy(&git(directory, &["rev-parse", "--show-toplevel"])?)
        .trim()
        .to_owned();
    let top = PathBuf::from(top);
    let raw = git(
        &top,
        &[
            "diff",
            "--cached",
            "--raw",
            "-z",
            "--no-abbrev",
            "--diff-filter=ACMR",
        ],
    )?;
    let staged = parse_raw_diff(&raw)?;
    let blobs: Vec<&str> = staged.iter().map(|(_, blob)| blob.as_str()).collect();
    let contents = read_blobs(&top, &blobs)?;
    Ok(staged
        .into_iter()
        .zip(contents)
        .map(|((name, _), bytes)| (top.join(&name), name, bytes))
        .collect())
}

/// `(path, staged blob id)` from `git diff --raw -z` output. Submodules (mode 160000) have
/// no content of their own here and are skipped. Anything unexpected is an error: the guard
/// must not pass a commit it could not read.
fn parse_raw_diff(raw: &[u8]) -> Result<Vec<(String, String)>> {
    let unexpected = || ClientError::Input("git diff --raw: unexpected output".into());
    let mut fields = raw.split(|&byte| byte == 0);
    let mut staged = Vec::new();
    while let Some(header) = fields.next().filter(|field| !field.is_empty()) {
        let header = std::str::from_utf8(header).map_err(|_| unexpected())?;
        // `:OLD_MODE NEW_MODE OLD_BLOB NEW_BLOB STATUS`
        let parts: Vec<&str> = header
            .strip_prefix(':')
            .ok_or_else(unexpected)?
            .split(' ')
            .collect();
        let [_, new_mode, _, new_blob, status] = parts[..] else {
            return Err(unexpected().into());
        };
        let mut next_path = || {
            fields
                .next()
                .filter(|path| !path.is_empty())
                .ok_or_else(unexpected)
        };
        if status.starts_with(['R', 'C']) {
            next_path()?;
        }
        let path = next_path()?;
        if new_mode != "160000" {
            staged.push((
                String::from_utf8_lossy(path).into_owned(),
                new_blob.to_owned(),
            ));
        }
    }
    Ok(staged)
}

/// The content of each blob, in order, from one `git cat-file --batch`.
fn read_blobs(top: &Path, blobs: &[&str]) -> Result<Vec<Vec<u8>>> {
    use std::io::{BufRead, BufReader, Read, Write};

    if blobs.is_empty() {
        return Ok(Vec::new());
    }
    let io_error = |source| ClientError::Io {
        what: "reading staged files with git cat-file".into(),
        source,
    };
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(io_error)?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(ClientError::Input("git cat-file: no pipes".into()).into());
    };
    // Written from its own thread: git answers while it reads, and with many files both
    // pipes could fill at once.
    let request: String = blobs.iter().map(|blob| format!("{blob}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut reader = BufReader::new(stdout);
    let mut contents = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(io_error)?;
        // `BLOB blob SIZE`, or `BLOB missing`.
        let size = header
            .trim_end()
            .strip_prefix(*blob)
            .and_then(|rest| rest.strip_prefix(" blob "))
            .and_then(|size| size.parse::<usize>().ok())
            .ok_or_else(|| {
                ClientError::Input(format!(
                    "git cat-file: cannot read staged blob {blob} (`{}`)",
                    header.trim_end()
                ))
            })?;
        let mut bytes = vec![0; size + 1];
        reader.read_exact(&mut bytes).map_err(io_error)?;
        bytes.pop();
        contents.push(bytes);
    }
    drop(reader);
    let _ = writer.join();
    let _ = child.wait();
    Ok(contents)
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
    let binary = std::env::current_exe().map_err(|error| ClientError::Io {
        what: "locating the envsync binary".into(),
        source: error,
    })?;
    let script = format!(
        "#!/bin/sh\n{HOOK_MARKER}: refuses commits that add plaintext secrets (`envsync guard install`)\n\
         envsync='{}'\n\
         [ -x \"$envsync\" ] || envsync=envsync\n\
         \"$envsync\" guard --staged || exit $?\n\
         chained=\"$(dirname \"$0\")/pre-commit{CHAINED_SUFFIX}\"\n\
         if [ -x \"$chained\" ]; then exec \"$chained\" \"$@\"; fi\n",
        binary.display().to_string().replace('\'', "'\\''")
    );
    std::fs::create_dir_all(&hooks)
        .and_then(|()| std::fs::write(&hook, script))
        .map_err(|error| ClientError::Io {
            what: format!("writing {}", hook.display()),
            source: error,
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).map_err(
            |error| ClientError::Io {
                what: format!("making {} executable", hook.display()),
                source: error,
            },
        )?;
    }
    printer.message(format!("installed the envsync guard as {}", hook.display()));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "0000000000000000000000000000000000000000";
    const NEW: &str = "1111111111111111111111111111111111111111";

    #[test]
    fn raw_diff_gives_each_staged_path_with_its_new_blob() {
        let raw = format!(
            ":000000 100644 {OLD} {NEW} A\0src/new file.js\0\
             :100644 100644 {OLD} {NEW} R087\0old/name.env\0new/name.env\0\
             :000000 160000 {OLD} {NEW} A\0vendor/submodule\0\
             :100644 100755 {OLD} {NEW} M\0run.sh\0"
        );
        let staged = parse_raw_diff(raw.as_bytes()).unwrap();
        let paths: Vec<&str> = staged.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["src/new file.js", "new/name.env", "run.sh"]);
        assert!(staged.iter().all(|(_, blob)| blob == NEW));
        assert!(parse_raw_diff(b"").unwrap().is_empty());
        assert!(parse_raw_diff(b"garbage\0path\0").is_err());
        assert!(parse_raw_diff(format!(":100644 100644 {OLD} {NEW} M\0").as_bytes()).is_err());
    }

    #[test]
    fn a_value_inside_another_is_still_found_and_findings_come_in_file_order() {
        let secret = |value: &str, origin: &str| Secret {
            value: value.into(),
            origin: origin.into(),
        };
        let values = LinkedValues::new(vec![
            secret("hunter2-long-password", "LONG"),
            secret("long-password", "SHORT"),
            secret("never-present-value", "ABSENT"),
        ])
        .unwrap();
        let text = b"a = 'long-password'\nb = 'hunter2-long-password'\n";
        let found: Vec<(usize, &str)> = values
            .find_in(text)
            .into_iter()
            .map(|(position, secret)| (line_of(text, position), secret.origin.as_str()))
            .collect();
        assert_eq!(found, [(1, "SHORT"), (2, "LONG")]);
    }
}
