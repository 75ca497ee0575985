//! Which linked files the guard takes values from: those of the workspace around the
//! current directory, and of every `envsync.toml` git tracks at any depth. A monorepo keeps
//! one per service while the hook runs at the repository's root, where looking upward finds
//! none. Whatever cannot be read is said, never skipped in silence: a guard that quietly
//! checks nothing is worse than none.

use std::path::{Path, PathBuf};

use envsync_client::ClientError;
use envsync_client::workspace::{Target, Workspace};
use envsync_core::config;

use super::staged::git;
use crate::printer::Printer;

/// One linked file: its environment, and the path it is read at.
pub struct Linked {
    pub target: Target,
    pub path: PathBuf,
}

/// Every linked file of every workspace found, each once; a warning for each workspace or
/// file that cannot be resolved.
pub fn linked_files(directory: &Path, printer: &Printer) -> Vec<Linked> {
    let mut workspaces = Vec::new();
    match Workspace::discover(directory) {
        Ok(workspace) => workspaces.push(workspace),
        Err(ClientError::NoWorkspace(_)) => {}
        Err(error) => warn(printer, &error.to_string()),
    }
    for root in tracked_roots(directory, printer) {
        match Workspace::load(&root) {
            Ok(workspace) => workspaces.push(workspace),
            Err(error) => warn(printer, &error.to_string()),
        }
    }
    let mut seen = Vec::new();
    let mut linked = Vec::new();
    for workspace in workspaces {
        let root = workspace
            .root
            .canonicalize()
            .unwrap_or(workspace.root.clone());
        if seen.contains(&root) {
            continue;
        }
        seen.push(root);
        linked.extend(resolve(&workspace, printer));
    }
    linked
}

fn resolve(workspace: &Workspace, printer: &Printer) -> Vec<Linked> {
    workspace
        .configured_targets()
        .into_iter()
        .filter_map(|target| match workspace.linked_file(&target) {
            Ok(path) => Some(Linked { target, path }),
            Err(error) => {
                warn(printer, &error.to_string());
                None
            }
        })
        .collect()
}

/// The directory of each `envsync.toml` in git's index (tracked or staged), at any depth.
/// Outside a git repository there are none; a repository git cannot list is a warning.
fn tracked_roots(directory: &Path, printer: &Printer) -> Vec<PathBuf> {
    let Ok(top) = git(directory, &["rev-parse", "--show-toplevel"]) else {
        return Vec::new();
    };
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let pattern = format!(":(glob)**/{}", config::FILE_NAME);
    match git(&top, &["ls-files", "-z", "--", &pattern]) {
        Ok(listed) => listed
            .split(|&byte| byte == 0)
            .filter(|name| !name.is_empty())
            .map(|name| top.join(String::from_utf8_lossy(name).as_ref()))
            .filter_map(|file| file.parent().map(Path::to_path_buf))
            .collect(),
        Err(error) => {
            warn(
                printer,
                &format!("cannot list the envsync.toml files git tracks: {error}"),
            );
            Vec::new()
        }
    }
}

/// One line on stderr: what was not checked, so a passing guard is never a silent gap.
pub fn warn(printer: &Printer, problem: &str) {
    printer.message(format!(
        "warning: {problem}; the guard cannot look for the values linked there"
    ));
}
