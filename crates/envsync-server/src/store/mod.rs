//! Where the server keeps what clients push: ciphertext, signed record JSON, key names and
//! metadata, never anything it could decrypt.
//!
//! SQLite (a file, created when missing) is the zero-configuration default; PostgreSQL lets
//! several server replicas share one database. The database is chosen at run time by the
//! URL's scheme. Both run the same SQL through sqlx's `Any` driver: the queries use only what
//! both dialects share (`$N` parameters, `INSERT … SELECT`, `ON CONFLICT`), so the
//! per-database parts are the migrations and the connection setup, and one test suite
//! (`tests/store/`) holds both to the same behaviour.
//!
//! Every guarantee that matters under concurrency is enforced by the database itself
//! (primary keys, single-statement conditional inserts), not by the process, so it holds
//! across replicas.

mod accounts;
mod audit;
mod cache;
mod error;
mod invites;
mod limits;
mod membership_log;
mod notify;
mod pending;
mod publications;
mod read_batch;
mod reads;
mod sessions;
mod tokens;
mod transaction;
mod url;
mod versions;

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

pub use accounts::{Account, InviteRow};
pub use audit::{AuditFilter, NewAuditEntry};
pub use cache::{CacheUse, DEFAULT_RECORD_CACHE_BYTES};
pub use error::{Result, StoreError};
pub use invites::Revocation;
pub use limits::{FAILURE_WINDOW_SECONDS, MAX_FAILURES};
pub use reads::{ReadAccess, ReadRequest};
pub use sessions::{NewSession, Session};
pub use tokens::NewToken;
pub use transaction::Transaction;
pub use url::{Backend, redact as redact_url};
pub use versions::{Created, NewVersion, VersionLink};

/// How long opening the database may take before the server gives up with an error.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a request waits for a database connection before it is answered 503 ("the
/// database is unavailable"). sqlx's default (30 s) equals the API's request time limit, so
/// with the database down a client got whichever fired first: a clear 503 or a bare 408.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long `/ready` waits for the database before answering 503.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Connections of the pool: open ones, of which idle, and the most it opens.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// An open, migrated database. Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// What errors and `Debug` show.
    redacted_url: String,
    /// With any password: only for opening further connections (event listeners).
    connect_url: String,
    /// See [`Store::enable_read_cache`].
    cache: Option<std::sync::Arc<cache::ReadCache>>,
    /// Version records, ciphertexts and links, which never change once stored.
    immutable: std::sync::Arc<cache::Immutable>,
    /// PostgreSQL's queue of authenticated reads (see `read_batch`).
    read_batcher: Option<read_batch::ReadBatcher>,
}

impl fmt::Debug for Store {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Store")
            .field("backend", &self.backend)
            .field("url", &self.redacted_url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `url` (`postgres://…`, `sqlite://PATH` or a plain file path) and brings
    /// its schema up to date. Migrations take a database lock, so replicas that start at the
    /// same time migrate once.
    pub async fn open(url: &str) -> Result<Self> {
        let redacted_url = url::redact(url);
        let (backend, connect_url) =
            url::resolve(url).ok_or_else(|| StoreError::UnsupportedUrl {
                url: redacted_url.clone(),
            })?;
        if backend == Backend::Sqlite
            && !connect_url.contains("mode=ro")
            && let Some(path) = sqlite_file(&connect_url)
        {
            restrict_sqlite_files(&path)?;
        }
        install_default_drivers();
        let open_error = |source| StoreError::Open {
            url: redacted_url.clone(),
            source,
        };
        try_connect(&connect_url).await.map_err(open_error)?;
        let pool = AnyPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(&connect_url)
            .await
            .map_err(open_error)?;
        let mut store = Self {
            pool,
            backend,
            redacted_url,
            connect_url,
            cache: None,
            immutable: std::sync::Arc::default(),
            read_batcher: None,
        };
        store.prepare().await?;
        if backend == Backend::Postgres {
            store.read_batcher = Some(read_batch::ReadBatcher::start(store.clone()));
        }
        Ok(store)
    }

    /// Sets SQLite up (write-ahead log, private files) and brings the schema up to date.
    async fn prepare(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            // Readers do not block the single writer; the setting is kept in the file.
            self.pool
                .execute("PRAGMA journal_mode = WAL")
                .await
                .map_err(|source| self.query_error(source))?;
            if let Some(path) = self.sqlite_path()
                && !self.connect_url.contains("mode=ro")
            {
                restrict_sqlite_files(&path)?;
            }
        }
        let migrator = Migrator::new(EmbeddedMigrations(self.backend))
            .await
            .map_err(|source| self.migrate_error(source))?;
        migrator
            .run(&self.pool)
            .await
            .map_err(|source| self.migrate_error(source))
    }

    /// Serves token, role and head lookups from memory, kept exact by this store's own
    /// writes. Only for a database no other process writes: the server enables it for its
    /// SQLite file, which it locks.
    pub fn enable_read_cache(&mut self) {
        self.cache = Some(std::sync::Arc::default());
    }

    /// Bounds the cache of version records and ciphertexts (kept on every backend, as they
    /// never change) to `bytes` of keys and values; 0 turns it off. The default is
    /// [`DEFAULT_RECORD_CACHE_BYTES`].
    pub fn set_record_cache_budget(&mut self, bytes: usize) {
        self.immutable = std::sync::Arc::new(cache::Immutable::with_budget(bytes));
    }

    /// How full the record cache is.
    pub fn record_cache_use(&self) -> CacheUse {
        self.immutable.usage()
    }

    /// The SQLite database file, if that is the backend.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        sqlite_file(&self.connect_url)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL without its password, for messages.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    /// Whether the database answers a query within [`PING_TIMEOUT`]: what `/ready` reports.
    pub async fn ping(&self) -> Result<()> {
        let query = self.pool.execute("SELECT 1");
        match tokio::time::timeout(PING_TIMEOUT, query).await {
            Ok(answer) => answer.map(drop).map_err(|source| self.query_error(source)),
            Err(_) => Err(self.query_error(sqlx::Error::PoolTimedOut)),
        }
    }

    /// The connection pool's use now, for `/metrics`.
    pub fn pool_use(&self) -> PoolUse {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(open);
        PoolUse {
            open,
            idle,
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Closes every connection; pending queries finish first.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn query_error(&self, source: sqlx::Error) -> StoreError {
        StoreError::Query {
            url: self.redacted_url.clone(),
            source,
        }
    }

    fn migrate_error(&self, source: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Migrate {
            url: self.redacted_url.clone(),
            source,
        }
    }

    fn corrupt(&self, what: &'static str, value: i64) -> StoreError {
        StoreError::Corrupt {
            url: self.redacted_url.clone(),
            what,
            value,
        }
    }

    /// A row no query of ours writes (see [`StoreError::CorruptRow`]).
    fn corrupt_row(&self, what: &'static str, detail: String) -> StoreError {
        StoreError::CorruptRow {
            url: self.redacted_url.clone(),
            what,
            detail,
        }
    }

    /// A database integer as a version number or count; negative values are corruption.
    fn to_u64(&self, what: &'static str, value: i64) -> Result<u64> {
        u64::try_from(value).map_err(|_| self.corrupt(what, value))
    }
}

/// The SQLite file a `--database-url` names: `Ok(None)` for PostgreSQL or an in-memory
/// database, an error for a URL of neither.
pub fn sqlite_path_of(url: &str) -> Result<Option<std::path::PathBuf>> {
    let (backend, connect_url) = url::resolve(url).ok_or_else(|| StoreError::UnsupportedUrl {
        url: url::redact(url),
    })?;
    Ok(match backend {
        Backend::Sqlite => sqlite_file(&connect_url),
        Backend::Postgres => None,
    })
}

/// One connection on its own, before the pool: the pool retries a refused connection until
/// its acquire timeout and then reports only the timeout, where one attempt says why
/// (refused, unknown role, bad password) at once.
async fn try_connect(connect_url: &str) -> std::result::Result<(), sqlx::Error> {
    match tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect(connect_url)).await {
        Ok(connection) => connection?.close().await,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        ))),
    }
}

/// The file of a resolved `sqlite://PATH?…` URL; `None` for an in-memory database.
fn sqlite_file(connect_url: &str) -> Option<std::path::PathBuf> {
    let path = connect_url.strip_prefix("sqlite://")?;
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Makes the database file, and SQLite's `-wal` and `-shm` beside it, readable by the
/// server's user only (0600). They hold hashed tokens, account names and the audit log;
/// the default umask would leave them world-readable. The file is created here, private
/// from its first byte, before SQLite opens it; SQLite gives its `-wal` and `-shm` files
/// the database file's mode, and any left by an older start are tightened too.
pub(crate) fn restrict_sqlite_files(path: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file_error = |path: &std::path::Path, source| StoreError::File {
            path: path.display().to_string(),
            source,
        };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| file_error(path, source))?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = std::path::PathBuf::from(name);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|source| file_error(&file, source))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A number as the signed 64-bit integer both databases store.
fn to_i64(what: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { what, value })
}

/// The migrations, compiled into the binary so a server needs nothing beside itself. (Not
/// `sqlx::migrate!`, which would build sqlx's macro crate and both drivers a second time.)
#[derive(Debug)]
struct EmbeddedMigrations(Backend);

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "shared state",
        include_str!("../../migrations/sqlite/0002_shared_state.sql"),
    ),
    (
        3,
        "pending and signed invites",
        include_str!("../../migrations/sqlite/0003_pending_and_signed_invites.sql"),
    ),
    (
        4,
        "dashboard sessions",
        include_str!("../../migrations/sqlite/0004_dashboard_sessions.sql"),
    ),
    (
        5,
        "publications",
        include_str!("../../migrations/sqlite/0005_publications.sql"),
    ),
    (
        6,
        "invite revocation",
        include_str!("../../migrations/sqlite/0006_invite_revocation.sql"),
    ),
];

const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "shared state",
        include_str!("../../migrations/postgres/0002_shared_state.sql"),
    ),
    (
        3,
        "pending and signed invites",
        include_str!("../../migrations/postgres/0003_pending_and_signed_invites.sql"),
    ),
    (
        4,
        "dashboard sessions",
        include_str!("../../migrations/postgres/0004_dashboard_sessions.sql"),
    ),
    (
        5,
        "publications",
        include_str!("../../migrations/postgres/0005_publications.sql"),
    ),
    (
        6,
        "invite revocation",
        include_str!("../../migrations/postgres/0006_invite_revocation.sql"),
    ),
];

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>> {
        let migrations = match self.0 {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations = migrations
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}
