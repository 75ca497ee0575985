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
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
