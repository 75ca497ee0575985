//! `envsync watch`: a long-running client for the workspace. Filesystem events on the linked
//! files and on a folder remote trigger a refresh, and so do an envsync server's live events
//! (a WebSocket kept open by a background thread, see [`live`]); every remote is also polled
//! every `auto_refresh_seconds` (default 60, 0 disables polling) as a safety net. A clean
//! file whose remote moved is pulled at once; an edited one is never touched, the user is
//! told to sync.
//!
//! (`--refresh-seconds` overrides the interval.) With `--report`, nothing is pulled: a
//! `would_pull` event says what could be, and the caller (an editor) decides.
//!
//! With `--json`, stdout carries one event per line, [`crate::output::WatchEvent`].

mod live;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;
use envsync_client::ClientError;
use envsync_client::engine::{Session, StatusRow};
use envsync_client::remote::Live;
use envsync_core::status::Badge;
use notify::{RecursiveMode, Watcher};

use crate::cli::WatchArgs;
use crate::output::{EnvironmentStatus, Event, WatchEvent};
use crate::printer::Printer;
use crate::settings::Settings;
use live::{Connection, Wake};

const DEFAULT_REFRESH_SECONDS: u64 = 60;
/// File events arriving together (a push to a folder remote writes a record, an object and
/// a hint; an editor saves in several steps) cause one refresh. A server's event needs no
/// such wait: it names a version already stored, so it is acted on at once.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// The file in `.envsync/P/E/` that names an environment's base: the one state change that
/// wakes the watcher.
const BASE_STATE: &str = "state.json";

pub fn run(args: WatchArgs, settings: &Settings, printer: &Printer) -> Result<ExitCode> {
    let mut session = settings.session()?;
    let project = args.project.as_deref();
    let refresh_seconds = args
        .refresh_seconds
        .or(session.workspace.config.auto_refresh_seconds)
        .unwrap_or(DEFAULT_REFRESH_SECONDS);
    let poll_every = (refresh_seconds > 0).then(|| Duration::from_secs(refresh_seconds));
    let (sender, receiver) = mpsc::channel();
    let _watcher = file_watcher(&session, project, sender.clone())?;
    let mut connection = match session.remote_events() {
        Some(source) => Some(live::spawn(
            source,
            watched_projects(&session, project)?,
            sender,
        )?),
        None => None,
    };
    if !printer.json {
        let live = if connection.is_some() {
            "live events; "
        } else {
            ""
        };
        let polling = match poll_every {
            Some(_) => format!("polling every {refresh_seconds} s"),
            None => "no polling".to_owned(),
        };
        printer.data(format!(
            "watching {} ({live}{polling}); Ctrl-C to stop",
            session.remote_description(),
        ));
    }
    let mut last: HashMap<(String, String), Seen> = HashMap::new();
    let mut due = true;
    let mut next_poll = None;
    loop {
        if due {
            refresh(&mut session, project, args.report, &mut last, printer)?;
            next_poll = poll_every.map(|every| Instant::now() + every);
        }
        let first = match next_wake(&receiver, next_poll) {
            Next::Wake(wake) => wake,
            Next::Poll => {
                due = true;
                continue;
            }
            Next::Stopped => return Ok(ExitCode::SUCCESS),
        };
        let batch = gather(first, &receiver, DEBOUNCE);
        due = absorb(batch.into_iter(), connection.as_mut(), printer)?;
    }
}

enum Next {
    Wake(Wake),
    /// Time to poll the remote.
    Poll,
    /// Nothing can wake the watcher any more.
    Stopped,
}

fn next_wake(receiver: &mpsc::Receiver<Wake>, next_poll: Option<Instant>) -> Next {
    let Some(deadline) = next_poll else {
        return receiver.recv().map_or(Next::Stopped, Next::Wake);
    };
    match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(wake) => Next::Wake(wake),
        Err(mpsc::RecvTimeoutError::Timeout) => Next::Poll,
        Err(mpsc::RecvTimeoutError::Disconnected) => Next::Stopped,
    }
}

/// The wake-ups to handle together, starting with `first`. File events are coalesced: the
/// batch waits up to `debounce` for the rest of a burst. Anything else (a server's event, a
/// reconnection, a refusal) ends the wait, so a push seen live is pulled without the delay.
fn gather(first: Wake, receiver: &mpsc::Receiver<Wake>, debounce: Duration) -> Vec<Wake> {
    let deadline = Instant::now() + debounce;
    let mut urgent = !matches!(first, Wake::Files);
    let mut batch = vec![first];
    while !urgent {
        match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(wake) => {
                urgent = !matches!(wake, Wake::Files);
                batch.push(wake);
            }
            Err(_) => break,
        }
    }
    batch.extend(receiver.try_iter());
    batch
}

/// Reports what a batch of wake-ups says about the connection, and whether to refresh. A
/// reconnection calls for a catch-up unless the socket dropped again in the same batch: the
/// next reconnection will catch up then, and a refresh now would only fail.
fn absorb(
    batch: impl Iterator<Item = Wake>,
    mut connection: Option<&mut Connection>,
    printer: &Printer,
) -> Result<bool> {
    let (mut due, mut catch_up) = (false, false);
    for wake in batch {
        match wake {
            Wake::Files => due = true,
            Wake::Live(update) => {
                match &update {
                    Live::Connected => catch_up = true,
                    Live::Disconnected { .. } => catch_up = false,
                    Live::Event(_) => due = true,
                }
                if let Some(connection) = connection.as_deref_mut() {
                    connection.report(update, printer);
                }
            }
            Wake::Refused(error) => return Err(error.into()),
        }
    }
    Ok(due || catch_up)
}

/// Watches the linked files' directories (and a folder remote) for changes. A refresh reads
/// those files and may write envsync's own state; neither may wake the watcher again, or it
/// would refresh forever, so reads and `.envsync/` are ignored, except a new base
/// (`state.json`): another envsync process (a `push` from a terminal) records it after the
/// server's event has already woken this one, and the badge depends on it. A base written by
/// this watcher's own pull costs one more refresh, which writes no base.
fn file_watcher(
    session: &Session,
    project: Option<&str>,
    sender: mpsc::Sender<Wake>,
) -> Result<notify::RecommendedWatcher> {
    let state_directory = session.workspace.state_dir();
    let in_state = state_directory.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let only_state =
            !event.paths.is_empty() && event.paths.iter().all(|path| path.starts_with(&in_state));
        let new_base = || {
            let names_base = |path: &PathBuf| path.file_name().is_some_and(|n| n == BASE_STATE);
            (event.kind.is_modify() || event.kind.is_create()) && event.paths.iter().any(names_base)
        };
        if !event.kind.is_access() && (!only_state || new_base()) {
            let _ = sender.send(Wake::Files);
        }
    })
    .map_err(|error| ClientError::Input(format!("cannot watch files: {error}")))?;
    let mut directories = watched_directories(session, project)?;
    if state_directory.is_dir() {
        directories.push((state_directory, RecursiveMode::Recursive));
    }
    for (directory, mode) in directories {
        watcher.watch(&directory, mode).map_err(|error| {
            ClientError::Input(format!("cannot watch {}: {error}", directory.display()))
        })?;
    }
    Ok(watcher)
}

/// The projects whose events matter: a server sends events of every project the token may
/// read, and a workspace may hold only some of them.
fn watched_projects(session: &Session, project: Option<&str>) -> Result<Vec<String>> {
    let mut projects: Vec<String> = Vec::new();
    for target in session.workspace.targets(project)? {
        if !projects.contains(&target.project) {
            projects.push(target.project.clone());
        }
    }
    Ok(projects)
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

/// Re-reads the status; pulls clean environments whose remote moved (or, with
/// `report_only`, says they could be pulled); reports changes.
/// Errors (a remote briefly unreachable) are reported and the watch goes on, except a
/// removal from the project, which no retry can mend: it ends the watch (exit 5).
fn refresh(
    session: &mut Session,
    project: Option<&str>,
    report_only: bool,
    last: &mut HashMap<(String, String), Seen>,
    printer: &Printer,
) -> Result<()> {
    let report = match session.status(project) {
        Ok(report) => report,
        Err(error @ ClientError::Removed { .. }) => return Err(error.into()),
        Err(error) => {
            emit_error(printer, None, &error.to_string());
            return Ok(());
        }
    };
    for notice in session.take_notices() {
        if !printer.json {
            printer.note(notice);
        }
    }
    for row in report.rows {
        let key = (row.project.clone(), row.environment.clone());
        let seen = Seen::of(&row);
        if row.badge == Badge::UpdateAvailable && report_only {
            // Each new remote version is offered, even when this watcher never saw the file
            // synced in between (another process pulled and the next push came first).
            if last.get(&key) != Some(&seen) {
                emit_status(printer, &row);
                emit_would_pull(printer, &row);
                last.insert(key, seen);
            }
            continue;
        }
        if row.badge == Badge::UpdateAvailable {
            pull(session, &row, printer);
            last.insert(key, Seen::pulled(&row));
            continue;
        }
        if last.get(&key).is_none_or(|last| last.badge != row.badge) {
            emit_status(printer, &row);
        }
        last.insert(key, seen);
    }
    Ok(())
}

/// What the watcher last said of an environment: its badge, and the remote version an
/// update offered.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Seen {
    badge: Badge,
    remote_version: Option<u64>,
}

impl Seen {
    fn of(row: &StatusRow) -> Self {
        Self {
            badge: row.badge,
            remote_version: row.remote_version,
        }
    }

    /// After this watcher pulled `row`'s update.
    fn pulled(row: &StatusRow) -> Self {
        Self {
            badge: Badge::Synced,
            ..Self::of(row)
        }
    }
}

fn pull(session: &mut Session, row: &StatusRow, printer: &Printer) {
    let result = session
        .workspace
        .target(Some(&row.project), Some(&row.environment))
        .and_then(|target| session.pull(&target, false));
    match result {
        Ok(outcome) => printer.event(&WatchEvent::new(Event::Pulled {
            project: row.project.clone(),
            environment: row.environment.clone(),
            file: row.file.clone(),
            badge: Badge::Synced,
            version: outcome.version,
            author: outcome.author,
        })),
        Err(error) => emit_error(printer, Some(row), &error.to_string()),
    }
}

fn emit_status(printer: &Printer, row: &StatusRow) {
    let status = EnvironmentStatus::from(row.clone());
    printer.event(&WatchEvent::new(Event::Status(status)));
}

/// `--report`: the update a clean file could take, which the caller pulls when it decides.
fn emit_would_pull(printer: &Printer, row: &StatusRow) {
    printer.event(&WatchEvent::new(Event::WouldPull {
        project: row.project.clone(),
        environment: row.environment.clone(),
        file: row.file.clone(),
        version: row.remote_version,
        author: row.remote_author.clone(),
    }));
}

fn emit_error(printer: &Printer, row: Option<&StatusRow>, message: &str) {
    printer.event(&WatchEvent::new(Event::Error {
        project: row.map(|row| row.project.clone()),
        environment: row.map(|row| row.environment.clone()),
        message: message.to_owned(),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use envsync_api::Event as ServerEvent;

    fn server_event() -> Wake {
        Wake::Live(Live::Event(ServerEvent {
            project: "demo".into(),
            environment: Some("development".into()),
            number: 2,
            author: None,
        }))
    }

    /// Runs `gather` with a debounce far longer than any test, on a channel whose sender
    /// stays open; the batch, or `None` if it was still waiting after 30 s.
    fn gather_long(first: Wake, queued: Vec<Wake>) -> Option<Vec<Wake>> {
        let (sender, receiver) = mpsc::channel();
        for wake in queued {
            sender.send(wake).unwrap();
        }
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || {
            let batch = gather(first, &receiver, Duration::from_secs(3600));
            let _ = done.send(batch);
        });
        let batch = result.recv_timeout(Duration::from_secs(30)).ok();
        drop(sender);
        batch
    }

    #[test]
    fn a_burst_of_file_events_is_one_batch() {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..3 {
            sender.send(Wake::Files).unwrap();
        }
        let batch = gather(Wake::Files, &receiver, Duration::from_millis(20));
        assert_eq!(batch.len(), 4);
        assert!(receiver.try_recv().is_err(), "the burst was left half read");
    }

    #[test]
    fn a_server_event_is_handled_without_waiting_for_more() {
        let batch = gather_long(server_event(), Vec::new()).expect("no debounce for an event");
        assert_eq!(batch.len(), 1);
    }

    #[test]
    fn a_server_event_ends_a_file_debounce_and_joins_its_batch() {
        let queued = vec![Wake::Files, server_event(), Wake::Files];
        let batch = gather_long(Wake::Files, queued).expect("the event ended the wait");
        assert_eq!(batch.len(), 4);
    }
}
