//! Starting and stopping: open the store, make the owner setup code when no owner exists,
//! listen (plain HTTP or rustls TLS), and when told to stop, stop accepting connections and
//! let requests in flight, pushes included, finish. This library prints nothing: the
//! [`Bound`] server says what its caller may want to show.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use envsync_core::hash::sha256_hex;
use thiserror::Error;

use crate::api::{self, AppState};
use crate::store::{Store, StoreError};

/// How long in-flight requests may take to finish once a shutdown has begun.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// A SQLite file path, `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub behind_proxy: bool,
    /// Let the dashboard decrypt values in the browser (see [`crate::api::Options`]).
    pub dashboard_unlock: bool,
    /// The memory kept for version records and ciphertexts read again and again (every push
    /// reads its base version's record): [`crate::store::DEFAULT_RECORD_CACHE_BYTES`] unless
    /// the operator chose otherwise; 0 reads the database every time.
    pub record_cache_bytes: usize,
}

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS certificate {cert} / key {key}: {source}")]
    Tls {
        cert: String,
        key: String,
        source: std::io::Error,
    },
    #[error(
        "another envsync server uses this SQLite database (it holds {lock}); run one server per SQLite file, or several on PostgreSQL with --database-url"
    )]
    Locked { lock: String },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Starting a server: [`Server::bind`] opens the store and the listening socket, and the
/// [`Bound`] it returns serves until its shutdown future completes. The caller (the
/// `envsync server` command) owns the runtime, logging and everything printed.
pub struct Server;

impl Server {
    /// Opens the store (making an owner setup code when the server has no owner yet) and
    /// binds the listener. Nothing is served until [`Bound::run`].
    pub async fn bind(config: ServerConfig) -> Result<Bound, ServerError> {
        // Before the store: a bad certificate must not cost an owner setup code.
        let tls = match &config.tls {
            Some((cert, key)) => Some(load_tls(cert, key).await?),
            None => None,
        };
        let mut store = Store::open(&config.database_url).await?;
        store.set_record_cache_budget(config.record_cache_bytes);
        let sqlite_lock = lock_sqlite(&mut store)?;
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Listen {
                address: config.listen,
                source,
            })?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let setup_code = setup_code(&store).await?;
        let options = api::Options {
            behind_proxy: config.behind_proxy,
            tls: tls.is_some(),
            dashboard_unlock: config.dashboard_unlock,
        };
        let state = AppState::new(store.clone(), options).await?;
        Ok(Bound {
            local_addr,
            url: format!(
                "{}://{local_addr}",
                if tls.is_some() { "https" } else { "http" }
            ),
            setup_code,
            plain_text_exposed: tls.is_none()
                && !config.behind_proxy
                && !local_addr.ip().is_loopback(),
            database: store.redacted_url().to_owned(),
            listener,
            tls,
            store,
            state,
            _sqlite_lock: sqlite_lock,
        })
    }
}

/// A server listening but not yet serving: what its caller tells the operator.
pub struct Bound {
    pub local_addr: SocketAddr,
    /// `http://ADDRESS` or `https://ADDRESS`: what clients join.
    pub url: String,
    /// The owner setup code made by this start, when the server has no owner yet. Each
    /// start makes one more, and earlier ones stay valid until one is used.
    pub setup_code: Option<String>,
    /// Plain HTTP on an address other machines reach, with no TLS proxy declared: tokens and
    /// setup codes would cross the network unencrypted.
    pub plain_text_exposed: bool,
    /// The database URL, password redacted.
    pub database: String,
    listener: std::net::TcpListener,
    tls: Option<RustlsConfig>,
    store: Store,
    state: AppState,
    /// One server per SQLite file, held until the server stops: the lock lets the read
    /// cache trust that every write goes through this process.
    _sqlite_lock: Option<std::fs::File>,
}

impl Bound {
    /// Serves until `shutdown` completes, then stops accepting connections and lets
    /// requests in flight, pushes included, finish (for at most [`SHUTDOWN_GRACE`]).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Bound {
            listener,
            tls,
            store,
            state,
            _sqlite_lock,
            ..
        } = self;
        let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let handle = axum_server::Handle::new();
        let serving = async {
            match tls {
                Some(tls) => {
                    axum_server::from_tcp_rustls(listener, tls)
                        .handle(handle.clone())
                        .serve(app)
                        .await
                }
                None => {
                    axum_server::from_tcp(listener)
                        .handle(handle.clone())
                        .serve(app)
                        .await
                }
            }
        };
        let mut serving = std::pin::pin!(serving);
        tokio::select! {
            result = &mut serving => result?,
            () = shutdown => {
                state.begin_shutdown();
                handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
                serving.await?;
            }
        }
        store.close().await;
        Ok(())
    }
}

async fn load_tls(cert: &Path, key: &Path) -> Result<RustlsConfig, ServerError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|source| ServerError::Tls {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            source,
        })
}

/// On SQLite, takes the one-server-per-file lock and turns the read cache on.
fn lock_sqlite(store: &mut Store) -> Result<Option<std::fs::File>, ServerError> {
    let Some(path) = store.sqlite_path() else {
        return Ok(None);
    };
    let lock = lock_sqlite_file(&path)?.map_err(|lock_path| ServerError::Locked {
        lock: lock_path.display().to_string(),
    })?;
    store.enable_read_cache();
    Ok(Some(lock))
}

/// Takes the one-process-per-file lock beside SQLite file `path` (`PATH.lock`): the file
/// holding it, or `Err` with the lock's path when another process holds it.
pub(crate) fn lock_sqlite_file(path: &Path) -> std::io::Result<Result<std::fs::File, PathBuf>> {
    let lock_path = path.with_extension("lock");
    let lock = private_file(&lock_path)?;
    Ok(match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(_) => Err(lock_path),
    })
}

/// A new owner setup code, stored by its hash, when the server has no owner yet.
async fn setup_code(store: &Store) -> Result<Option<String>, ServerError> {
    if store.has_admin().await? {
        return Ok(None);
    }
    let code = api::new_code();
    store
        .add_setup_code(&sha256_hex(code.as_bytes()), api::unix_now())
        .await?;
    Ok(Some(code))
}

/// Creates (or opens) a file only the server's user may read or write.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(test)]
mod tests {
    use envsync_api::{CODE_PREFIX, paths};

    use super::*;

    fn config(directory: &Path) -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: directory.join("server.db").display().to_string(),
            tls: None,
            behind_proxy: false,
            dashboard_unlock: false,
            record_cache_bytes: crate::store::DEFAULT_RECORD_CACHE_BYTES,
        }
    }

    /// Bound, the server says where it listens and the setup code to show, holds its
    /// SQLite file against a second server, serves until told to stop, then lets go.
    #[tokio::test]
    async fn binds_serves_and_stops() {
        let directory = tempfile::tempdir().unwrap();
        let bound = Server::bind(config(directory.path())).await.unwrap();
        let address = bound.local_addr;
        assert_eq!(bound.url, format!("http://{address}"));
        assert!(!bound.plain_text_exposed, "loopback is not exposed");
        let code = bound.setup_code.clone().unwrap();
        assert!(code.starts_with(CODE_PREFIX), "{code}");
        let second = Server::bind(config(directory.path())).await;
        assert!(matches!(second, Err(ServerError::Locked { .. })));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let client = async {
            let response = crate::loopback::request(address, "GET", &paths::health()).await;
            let _ = stop.send(());
            response
        };
        let (served, response) = tokio::join!(
            bound.run(async {
                let _ = stopped.await;
            }),
            client
        );
        served.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let again = Server::bind(config(directory.path())).await.unwrap();
        let another = again.setup_code.unwrap();
        assert_ne!(
            another, code,
            "each start without an owner makes one more code"
        );
    }
}
