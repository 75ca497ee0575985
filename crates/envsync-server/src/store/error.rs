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

    /// Whether the database refused a write for want of room: SQLite full or unable to
    /// write its file (a full disk, a file-size limit), PostgreSQL's disk full. Reads
    /// still work; writes will once the operator makes room.
    pub fn is_out_of_space(&self) -> bool {
        let Self::Query {
            source: sqlx::Error::Database(error),
            ..
        } = self
        else {
            return false;
        };
        if error
            .try_downcast_ref::<sqlx::sqlite::SqliteError>()
            .is_some()
        {
            // Primary result codes (the low byte of the extended one): SQLITE_FULL and
            // SQLITE_IOERR, which is what a write refused with EFBIG or EIO becomes.
            let code = error.code().and_then(|code| code.parse::<i32>().ok());
            return code.is_some_and(|code| matches!(code & 0xff, 10 | 13));
        }
        error.code().as_deref() == Some("53100")
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
