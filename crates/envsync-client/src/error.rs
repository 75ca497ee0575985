use std::path::PathBuf;

use envsync_core::config::ConfigError;
use envsync_core::dotenv::DotenvError;

/// How a failure should be reported: the binary maps each kind to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: arguments, `envsync.toml`, a file envsync cannot read.
    Input,
    /// The remote moved or keys conflict: `envsync sync` resolves it.
    Conflict,
    /// Writing would overwrite unpushed local edits.
    LocalChanges,
    /// Identity, membership, recipients or trust stand in the way.
    Access,
    /// A version, blob or log failed verification: forged, tampered or corrupt.
    Integrity,
    /// Anything else: I/O, an unreachable remote.
    Other,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("no envsync.toml in {0} or any parent directory")]
    NoWorkspace(PathBuf),
    #[error("{path}:{source}")]
    Config { path: PathBuf, source: ConfigError },
    #[error("{0}")]
    Input(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Dotenv(#[from] DotenvError),
    #[error("no identity at {0}")]
    NoIdentity(PathBuf),
    #[error("identity {origin} is unusable: {reason}")]
    BadIdentity { origin: String, reason: String },
    #[error("{0}")]
    Access(String),
    #[error("{0}")]
    Integrity(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    LocalChanges(String),
    #[error("{0}")]
    Remote(String),
    /// A linked file, or a directory above it, is a symlink that leaves the workspace:
    /// following it would push another file or write plaintext elsewhere.
    #[error(
        "{}{link} is a symlink to {target}, which is not inside the workspace {root}; envsync \
         reads and writes linked files only inside it",
        if file == link { String::new() } else { format!("{file}: ") }
    )]
    LinkOutsideWorkspace {
        file: String,
        link: String,
        target: PathBuf,
        root: PathBuf,
    },
    /// `ENVSYNC_TOKEN` is set but `ENVSYNC_SERVER` does not name the server about to be
    /// called: the remote may come from a pull request's `envsync.toml`.
    #[error("{}", token_refusal(remote, token_server.as_deref()))]
    TokenForAnotherServer {
        remote: String,
        token_server: Option<String>,
    },
    /// A change was made (a membership entry written) and a later step failed: the message
    /// says what was done, so that nobody runs the command again to make it twice.
    #[error("{done}, but finishing failed: {failure}")]
    AfterChange {
        done: String,
        failure: Box<ClientError>,
    },
    /// This user's key was removed from the project: nothing is filed, nothing retried.
    #[error(
        "you were removed from project `{project}` by {by} on {at}; ask an owner to add you \
         again if that was a mistake"
    )]
    Removed {
        project: String,
        by: String,
        at: String,
    },
}

fn token_refusal(remote: &str, token_server: Option<&str>) -> String {
    match token_server {
        Some(token_server) => format!(
            "ENVSYNC_TOKEN belongs to ENVSYNC_SERVER={token_server}, but the remote here is \
             {remote}: envsync sends the token to no other server (if {remote} is right, set \
             ENVSYNC_SERVER to it)"
        ),
        None => format!(
            "ENVSYNC_TOKEN is set without ENVSYNC_SERVER: set ENVSYNC_SERVER to the URL of the \
             server the token belongs to (the remote here is {remote}); envsync sends the token \
             to that server only"
        ),
    }
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::AfterChange { failure, .. } => failure.kind(),
            ClientError::NoWorkspace(_)
            | ClientError::Config { .. }
            | ClientError::Input(_)
            | ClientError::Dotenv(_)
            | ClientError::LinkOutsideWorkspace { .. } => ErrorKind::Input,
            ClientError::NoIdentity(_)
            | ClientError::BadIdentity { .. }
            | ClientError::Access(_)
            | ClientError::TokenForAnotherServer { .. }
            | ClientError::Removed { .. } => ErrorKind::Access,
            ClientError::Integrity(_) => ErrorKind::Integrity,
            ClientError::Conflict(_) => ErrorKind::Conflict,
            ClientError::LocalChanges(_) => ErrorKind::LocalChanges,
            ClientError::Io { .. } | ClientError::Remote(_) => ErrorKind::Other,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ClientError::Io {
            what: what.into(),
            source,
        }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
