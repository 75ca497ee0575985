//! The watcher's link to an envsync server's live events. A background thread owns the
//! WebSocket (it blocks on reads and sleeps between reconnects, which the main loop must
//! not) and turns what it hears into wake-ups; the main loop refreshes through the same code
//! path as for a filesystem event or a poll, so an event is only ever a hint.

use std::sync::mpsc::Sender;

use envsync_client::ClientError;
use envsync_client::remote::{EventSource, Live};

use crate::output::{Event, WatchEvent};
use crate::printer::Printer;

/// Why the main loop woke up.
pub(super) enum Wake {
    /// A linked file or a folder remote changed.
    Files,
    Live(Live),
    /// The server refused the token: retrying cannot help, so the watch stops.
    Refused(ClientError),
}

/// Starts the thread that keeps the socket open. Events of projects outside `projects` are
/// dropped there, so another workspace's pushes on the same server cause no refresh.
pub(super) fn spawn(
    source: EventSource,
    projects: Vec<String>,
    wake: Sender<Wake>,
) -> Result<Connection, ClientError> {
    let connection = Connection {
        remote: source.server().to_owned(),
        state: State::Starting,
    };
    std::thread::Builder::new()
        .name("envsync-events".into())
        .spawn(move || {
            for update in source.subscribe() {
                let message = match update {
                    Ok(Live::Event(event)) if !projects.contains(&event.project) => continue,
                    Ok(update) => Wake::Live(update),
                    Err(error) => Wake::Refused(error),
                };
                if wake.send(message).is_err() {
                    break;
                }
            }
        })
        .map_err(|error| ClientError::Input(format!("cannot start the event thread: {error}")))?;
    Ok(connection)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Starting,
    Up,
    Down,
}

/// The socket's state as the user has been told it.
pub(super) struct Connection {
    remote: String,
    state: State,
}

impl Connection {
    /// Reports a change of the socket: every one as a JSON line; for a person, one line
    /// when it goes down and one when it comes back.
    pub(super) fn report(&mut self, update: Live, printer: &Printer) {
        let (event, state) = match update {
            Live::Event(_) => return,
            Live::Connected => (
                Event::Connected {
                    remote: self.remote.clone(),
                },
                State::Up,
            ),
            Live::Disconnected { reason, retry_in } => (
                Event::Disconnected {
                    remote: self.remote.clone(),
                    retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
                    reason,
                },
                State::Down,
            ),
        };
        // A person hears of a drop once, and of a return only after a drop.
        let news = match state {
            State::Up => self.state == State::Down,
            _ => self.state != State::Down,
        };
        if printer.json || news {
            printer.event(&WatchEvent::new(event));
        }
        self.state = state;
    }
}
