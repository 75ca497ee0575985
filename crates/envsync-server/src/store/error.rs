//! The store's errors. Every message that names a database names it by its redacted URL, so
//! a password in `--database-url` never reaches a log or a terminal.

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error(
        "database URL `{url}` is not supported: use a file path, sqlite://PATH or postgres://USER@HOST/DATABASE"
    )]
    UnsupportedUrl { url: String },

    #[error("cannot open database {url}: {source}")]
    Open { url: String, source: sqlx::Error },

    #[error("cannot migrate database {url}: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },

    #[error("database {url}: {source}")]
    Query { url: String, source: sqlx::Error },

    /// The SQLite file could not be created or made private (mode 0600).
    #[error("database file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },

    /// A number the database cannot hold (it stores signed 64-bit integers).
    #[error("{what} {value} is out of range")]
    OutOfRange { what: &'static str, value: u64 },

    /// The database returned a value no query of ours writes, e.g. a negative version number.
    #[error("database {url}: unexpected {what} value {value}")]
    Corrupt {
        url: String,
        what: &'static str,
        value: i64,
    },

    /// A stored row no query of ours writes, e.g. a grant whose role is not a role. The
    /// caller must refuse the request: reading such a row as something milder could grant
    /// more than was ever stored (a corrupt environment list read as "every environment").
    #[error("database {url}: corrupt {what}: {detail}")]
    CorruptRow {
        url: String,
        what: &'static str,
        detail: String,
    },
}

impl StoreError {
    /// Whether the database answered with data it should never hold (a server fault to
    /// report as such), rather than being unreachable (which a retry may cure).
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Self::Corrupt { .. } | Self::CorruptRow { .. })
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
