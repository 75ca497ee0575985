//! `envsync watch --json`: one event per line.

use envsync_client::EnvironmentRef;
use schemars::JsonSchema;
use serde::Serialize;

use super::sync::EnvironmentStatus;
use envsync_core::status::Badge;

/// One line of `envsync watch --json`.
#[derive(Serialize, JsonSchema)]
#[serde(transparent)]
pub struct WatchEvent {
    pub event: Event,
}

impl WatchEvent {
    pub fn new(event: Event) -> Self {
        Self { event }
    }
}

/// What happened, named by the `event` field.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An environment's badge changed (and, at start, every environment's badge): the
    /// same fields as an environment of `envsync status`.
    Status(EnvironmentStatus),
    /// A clean file was pulled because the remote moved.
    Pulled {
        project: String,
        environment: String,
        file: String,
        badge: Badge,
        version: Option<u64>,
        /// Who made `version`, as the owner-signed membership log names them.
        author: Option<String>,
    },
    /// With `--report`, instead of pulling: the remote moved and the linked file is clean,
    /// so `envsync pull` would update it; the caller decides when.
    WouldPull {
        project: String,
        environment: String,
        file: String,
        /// The remote head.
        version: Option<u64>,
        /// Who made it.
        author: Option<String>,
    },
    /// Something failed; the watch goes on.
    Error {
        project: Option<String>,
        environment: Option<String>,
        message: String,
    },
    /// The server's live events are connected; a full refresh follows.
    Connected { remote: String },
    /// The live events dropped; the watch retries after `retry_in_ms`.
    Disconnected {
        remote: String,
        retry_in_ms: u64,
        reason: String,
    },
}

impl super::Document for WatchEvent {
    fn text(&self, printer: &crate::printer::Printer) {
        match &self.event {
            Event::Status(EnvironmentStatus {
                project,
                environment,
                badge,
                ..
            }) => {
                printer.data(format!(
                    "{}: {}{}",
                    EnvironmentRef::new(project, environment),
                    badge.label(),
                    advice(*badge)
                ));
            }
            Event::Pulled {
                project,
                environment,
                file,
                version,
                author,
                ..
            } => printer.data(format!(
                "{}: pulled version {}{} into {file}",
                EnvironmentRef::new(project, environment),
                version.unwrap_or_default(),
                author
                    .as_ref()
                    .map(|name| format!(" by {name}"))
                    .unwrap_or_default()
            )),
            Event::WouldPull {
                project,
                environment,
                version,
                author,
                ..
            } => printer.data(format!(
                "{}: version {} by {} is waiting: run `envsync pull`",
                EnvironmentRef::new(project, environment),
                version.unwrap_or_default(),
                author.as_deref().unwrap_or("an unknown author")
            )),
            Event::Error { message, .. } => {
                printer.message(format!("error: {message} (still watching)"));
            }
            Event::Connected { remote } => printer.data(format!("reconnected to server {remote}")),
            Event::Disconnected {
                retry_in_ms,
                reason,
                ..
            } => printer.data(format!(
                "{reason}; reconnecting in {:.1} s",
                *retry_in_ms as f64 / 1000.0
            )),
        }
    }
}

/// What a person watching should do about a badge, as the tail of its line.
fn advice(badge: Badge) -> &'static str {
    match badge {
        Badge::Diverged => " — you have unpushed edits and the remote moved: run `envsync sync`",
        Badge::LocalChanges => " — run `envsync push` to publish",
        Badge::NotLinked => " — run `envsync pull`",
        _ => "",
    }
}
