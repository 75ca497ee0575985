//! Reads started ahead of need. A command's reads of a server are round trips, and some do not
//! depend on each other (the membership log and the head, say): started together on
//! connections of their own, they cost one round trip where they cost one each in turn. A
//! folder's or bucket's reads are not worth a thread, so only a remote that offers a
//! [`Remote::detached`] handle reads ahead; everywhere else the caller reads when it needs the
//! answer, as before. Only transport: the engine verifies what comes exactly as it verifies
//! a read made in turn.

use std::thread::JoinHandle;

use super::Remote;
use crate::error::{ClientError, Result};

/// A read of the remote running on a thread of its own.
pub struct Ahead<T>(JoinHandle<Result<T>>);

impl<T: Send + 'static> Ahead<T> {
    /// Starts `read` on `remote`'s detached handle, where it has one; `None` otherwise (or
    /// when no thread can be started), and the caller reads when it needs the answer.
    pub fn start(
        remote: &dyn Remote,
        read: impl FnOnce(&dyn Remote) -> Result<T> + Send + 'static,
    ) -> Option<Self> {
        let detached = remote.detached()?;
        let thread = std::thread::Builder::new().name("read-ahead".into());
        thread.spawn(move || read(detached.as_ref())).ok().map(Self)
    }

    /// The answer of `ahead`, once it is in; without one, `read` now.
    pub fn answer_or(ahead: Option<Self>, read: impl FnOnce() -> Result<T>) -> Result<T> {
        match ahead {
            Some(ahead) => ahead.0.join().unwrap_or_else(|_| {
                Err(ClientError::Remote(
                    "a read of the remote stopped unexpectedly".into(),
                ))
            }),
            None => read(),
        }
    }
}
