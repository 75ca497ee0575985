//! `envsync server backup` and `restore` for a SQLite server, through SQLite's online
//! backup API (rusqlite's safe binding: sqlx exposes no backup, and this workspace forbids
//! the `unsafe` a raw `sqlite3_backup_*` call through sqlx's handle would need).
//!
//! A backup copies every page in one step under one read transaction, so it is a consistent
//! snapshot even while the server writes (in WAL mode readers never block the writer, nor
//! the writer them), unlike a file copy, which can catch the file and its `-wal` apart. It
//! is written beside its destination and renamed into place, so a backup killed midway
//! leaves no torn file under the name. A restore runs the same API the other way, and only
//! while no server holds the database's lock.
//!
//! PostgreSQL has its own tools for this (`pg_dump` / `pg_restore`, in the README).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use thiserror::Error;

use crate::serve::lock_sqlite_file;
use crate::store::{StoreError, redact_url, restrict_sqlite_files, sqlite_path_of};

/// How long a backup or restore waits for a lock another connection holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{database} is not a SQLite file: back PostgreSQL up with pg_dump and restore it with \
         pg_restore (README, Reliability)"
    )]
    NotSqlite { database: String },
    #[error("no SQLite database at {path}")]
    Missing { path: String },
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not an envsync server database (it has no envsync schema)")]
    NotEnvsync { path: String },
    #[error("{path} fails SQLite's integrity check: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("a server is running on {database} (it holds {lock}); stop it before restoring")]
    ServerRunning { database: String, lock: String },
}

/// What a backup or restore copied, for the operator.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    pub bytes: u64,
    pub versions: u64,
}

/// Writes a consistent copy of the SQLite database `database_url` names to `file`,
/// replacing any file there only once the copy is whole and checked.
pub fn backup(database_url: &str, file: &Path) -> Result<Copied, BackupError> {
    let database = sqlite_database(database_url)?;
    if !database.is_file() {
        return Err(BackupError::Missing {
            path: database.display().to_string(),
        });
    }
    let source = open(&database, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let partial = partial_path(file);
    remove_if_present(&partial)?;
    restrict_sqlite_files(&partial)?;
    let mut copy = open(&partial, OpenFlags::default())?;
    copy_all(&source, &mut copy, &partial)?;
    let versions = check(&copy, &partial)?;
    drop(copy);
    let written = std::fs::File::open(&partial).and_then(|written| {
        written.sync_all()?;
        written.metadata()
    });
    let bytes = written
        .map_err(|source| file_error(&partial, source))?
        .len();
    std::fs::rename(&partial, file).map_err(|source| file_error(file, source))?;
    Ok(Copied { bytes, versions })
}

/// Puts backup `file` back as the SQLite database `database_url` names, after checking it
/// is a whole envsync database, while no server runs on it.
pub fn restore(database_url: &str, file: &Path) -> Result<Copied, BackupError> {
    let database = sqlite_database(database_url)?;
    if !file.is_file() {
        return Err(BackupError::Missing {
            path: file.display().to_string(),
        });
    }
    let backup = open(file, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    check(&backup, file)?;
    restrict_sqlite_files(&database)?;
    let _lock = lock_sqlite_file(&database)
        .map_err(|source| file_error(&database, source))?
        .map_err(|lock| BackupError::ServerRunning {
            database: database.display().to_string(),
            lock: lock.display().to_string(),
        })?;
    let mut restored = open(&database, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    copy_all(&backup, &mut restored, &database)?;
    let versions = check(&restored, &database)?;
    let bytes = std::fs::metadata(&database)
        .map_err(|source| file_error(&database, source))?
        .len();
    Ok(Copied { bytes, versions })
}

fn sqlite_database(database_url: &str) -> Result<PathBuf, BackupError> {
    sqlite_path_of(database_url)?.ok_or_else(|| BackupError::NotSqlite {
        database: redact_url(database_url),
    })
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, BackupError> {
    let connection =
        Connection::open_with_flags(path, flags).map_err(|source| sqlite_error(path, source))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|source| sqlite_error(path, source))?;
    Ok(connection)
}

/// Every page of `from` into `to` in one step: one read transaction, one snapshot. (Copied
/// in several steps, a backup restarts whenever another connection writes in between, and
/// under steady pushes might never finish.)
fn copy_all(from: &Connection, to: &mut Connection, to_path: &Path) -> Result<(), BackupError> {
    let backup = Backup::new(from, to).map_err(|source| sqlite_error(to_path, source))?;
    loop {
        match backup
            .step(-1)
            .map_err(|source| sqlite_error(to_path, source))?
        {
            StepResult::Done => return Ok(()),
            // Busy or locked: another connection holds a lock for now; try again.
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// That `connection` holds a whole envsync database: SQLite's integrity check passes and
/// the schema is there. Returns how many versions it holds.
fn check(connection: &Connection, path: &Path) -> Result<u64, BackupError> {
    let detail: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|source| sqlite_error(path, source))?;
    if detail != "ok" {
        return Err(BackupError::Corrupt {
            path: path.display().to_string(),
            detail,
        });
    }
    let versions: Result<i64, _> =
        connection.query_row("SELECT COUNT(*) FROM versions", [], |row| row.get(0));
    match versions {
        Ok(count) => Ok(u64::try_from(count).unwrap_or_default()),
        Err(_) => Err(BackupError::NotEnvsync {
            path: path.display().to_string(),
        }),
    }
}

/// `FILE.partial` beside `file`, so the rename into place stays on one file system.
fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(file_error(path, error)),
        _ => Ok(()),
    }
}

fn sqlite_error(path: &Path, source: rusqlite::Error) -> BackupError {
    BackupError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

fn file_error(path: &Path, source: std::io::Error) -> BackupError {
    BackupError::File {
        path: path.display().to_string(),
        source,
    }
}
