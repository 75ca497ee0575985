//! `envsync watch`: a long-running client for the workspace. Filesystem events on the linked
//! files and on a folder remote trigger a refresh; every remote is also polled every
//! `auto_refresh_seconds` (default 60, 0 disables polling). A clean file whose remote moved
//! is pulled at once; an edited one is never touched, the user is told to sync.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::{Session, StatusRow};
use envsync_core::status::Badge;
use notify::{RecursiveMode, Watcher};

use crate::cli::WatchArgs;
use crate::printer::Printer;
use crate::settings::Settings;

/// Schema version of the `--json` event lines, bumped on any incompatible change.
const EVENT_SCHEMA: u32 = 1;
const DEFAULT_REFRESH_SECONDS: u64 = 60;
/// Events arriving together (a push writes a record and an object) cause one refresh.
const DEBOUNCE: Duration = Duration::from_millis(50);

pub fn run(args: WatchArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let refresh_seconds = session
        .workspace
        .config
        .auto_refresh_seconds
        .unwrap_or(DEFAULT_REFRESH_SECONDS);
    let (sender, receiver) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = sender.send(());
        }
    })
    .map_err(|error| ClientError::Input(format!("cannot watch files: {error}")))?;
    for (directory, mode) in watched_directories(&session, args.project.as_deref())? {
        watcher.watch(&directory, mode).map_err(|error| {
            ClientError::Input(format!("cannot watch {}: {error}", directory.display()))
        })?;
    }
    if !printer.json {
        printer.message(format!(
            "watching {} (polling every {}); Ctrl-C to stop",
            session.remote_description(),
            if refresh_seconds == 0 {
                "never".to_owned()
            } else {
                format!("{refresh_seconds} s")
            }
        ));
    }
    let mut last: HashMap<(String, String), Badge> = HashMap::new();
    loop {
        refresh(&mut session, args.project.as_deref(), &mut last, printer);
        let woke = if refresh_seconds == 0 {
            receiver.recv().is_ok()
        } else {
            !matches!(
                receiver.recv_timeout(Duration::from_secs(refresh_seconds)),
                Err(mpsc::RecvTimeoutError::Disconnected)
            )
        };
        if !woke {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(DEBOUNCE);
        while receiver.try_recv().is_ok() {}
    }
}

/// The linked files' directories, and the remote's own directory when it is a folder.
fn watched_directories(
    session: &Session,
    project: Option<&str>,
) -> Result<Vec<(PathBuf, RecursiveMode)>> {
    let mut directories: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for target in session.workspace.targets(project)? {
        let directory = target
            .file
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        if directory.is_dir() && !directories.iter().any(|(known, _)| known == &directory) {
            directories.push((directory, RecursiveMode::NonRecursive));
        }
    }
    if let Some(remote) = session
        .remote_watch_directory()
        .filter(|directory| directory.is_dir())
    {
        directories.push((remote, RecursiveMode::Recursive));
    }
    Ok(directories)
}

/// Re-reads the status; pulls clean environments whose remote moved; reports changes.
/// Errors (a remote briefly unreachable) are reported and the watch goes on.
fn refresh(
    session: &mut Session,
    project: Option<&str>,
    last: &mut HashMap<(String, String), Badge>,
    printer: &Printer,
) {
    let report = match session.status(project) {
        Ok(report) => report,
        Err(error) => return emit_error(printer, None, &error.to_string()),
    };
    for notice in session.take_notices() {
        if !printer.json {
            printer.note(notice);
        }
    }
    for row in report.rows {
        let key = (row.project.clone(), row.environment.clone());
        if row.badge == Badge::UpdateAvailable {
            pull(session, &row, printer);
            last.insert(key, Badge::Synced);
            continue;
        }
        if last.get(&key) != Some(&row.badge) {
            emit_status(printer, &row);
            last.insert(key, row.badge);
        }
    }
}

fn pull(session: &mut Session, row: &StatusRow, printer: &Printer) {
    let result = session
        .workspace
        .target(Some(&row.project), Some(&row.environment))
        .and_then(|target| session.pull(&target, false));
    match result {
        Ok(outcome) if printer.json => printer.data(
            serde_json::json!({
                "schema": EVENT_SCHEMA, "event": "pulled", "project": row.project,
                "environment": row.environment, "file": row.file, "badge": Badge::Synced,
                "version": outcome.version,
            })
            .to_string(),
        ),
        Ok(outcome) => printer.message(format!(
            "{}/{}: pulled version {} into {}",
            row.project,
            row.environment,
            outcome.version.unwrap_or_default(),
            row.file
        )),
        Err(error) => emit_error(printer, Some(row), &error.to_string()),
    }
}

fn emit_status(printer: &Printer, row: &StatusRow) {
    if printer.json {
        let mut event = serde_json::json!({
            "schema": EVENT_SCHEMA, "event": "status", "project": row.project,
            "environment": row.environment, "file": row.file, "badge": row.badge,
            "local_version": row.local_version, "remote_version": row.remote_version,
        });
        if let Some(action) = row.action {
            event["action"] = serde_json::json!(format!("envsync {action}"));
        }
        printer.data(event.to_string());
        return;
    }
    let advice = match row.badge {
        Badge::Diverged => " — you have unpushed edits and the remote moved: run `envsync sync`",
        Badge::LocalChanges => " — run `envsync push` to publish",
        Badge::NotLinked => " — run `envsync pull`",
        _ => "",
    };
    printer.message(format!(
        "{}/{}: {}{advice}",
        row.project,
        row.environment,
        row.badge.label()
    ));
}

fn emit_error(printer: &Printer, row: Option<&StatusRow>, message: &str) {
    if printer.json {
        printer.data(
            serde_json::json!({
                "schema": EVENT_SCHEMA, "event": "error",
                "project": row.map(|row| row.project.clone()),
                "environment": row.map(|row| row.environment.clone()),
                "message": message,
            })
            .to_string(),
        );
    } else {
        printer.message(format!("error: {message} (still watching)"));
    }
}
