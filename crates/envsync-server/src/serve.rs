//! Starting and stopping: open the store, print the owner setup code when no owner exists,
//! listen (plain HTTP or rustls TLS), and on SIGINT / SIGTERM stop accepting connections and
//! let requests in flight, pushes included, finish before the process exits.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
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

/// Runs the server until SIGINT or SIGTERM.
pub fn run(config: ServerConfig) -> Result<(), ServerError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ENVSYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour for a person at a terminal; plain text for journald, files and pipes.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(config))
}

async fn serve(config: ServerConfig) -> Result<(), ServerError> {
    // Before the store: a bad certificate must not cost an owner setup code.
    let tls = match &config.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            Some(
                RustlsConfig::from_pem_file(cert, key)
                    .await
                    .map_err(|source| ServerError::Tls {
                        cert: cert.display().to_string(),
                        key: key.display().to_string(),
                        source,
                    })?,
            )
        }
        None => None,
    };
    let mut store = Store::open(&config.database_url).await?;
    // One server per SQLite file: held for the life of the process, the lock lets the read
    // cache trust that every write goes through this process.
    let _sqlite_lock = match store.sqlite_path() {
        Some(path) => {
            let lock_path = path.with_extension("lock");
            let lock = private_file(&lock_path)?;
            lock.try_lock().map_err(|_| ServerError::Locked {
                lock: lock_path.display().to_string(),
            })?;
            store.enable_read_cache();
            Some(lock)
        }
        None => None,
    };
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Listen {
            address: config.listen,
            source,
        })?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{address}");
    if config.tls.is_none() && !config.behind_proxy && !address.ip().is_loopback() {
        eprintln!(
            "warning: plain HTTP on {address}: tokens and setup codes cross the network unencrypted; \
             serve HTTPS with --tls-cert/--tls-key, or listen on loopback behind a TLS proxy (--behind-proxy)"
        );
    }
    if !store.has_admin().await? {
        let code = api::new_code();
        store
            .add_setup_code(&sha256_hex(code.as_bytes()), api::unix_now())
            .await?;
        eprintln!("owner setup code: {code}");
        eprintln!("  join as the server's owner with: envsync join {url} {code}");
        eprintln!(
            "  (each start prints one more code, and earlier ones stay valid, until one is used)"
        );
    }
    let state = AppState::new(store.clone(), config.behind_proxy).await?;
    let app = api::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let signal_handle = handle.clone();
    let signal_state = state.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal_state.begin_shutdown();
        eprintln!("envsync server: shutting down, finishing requests in flight");
        signal_handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    // Printed last: the line scripts (and tests) wait for before connecting.
    eprintln!(
        "envsync server listening on {url} (database {})",
        store.redacted_url()
    );
    match tls {
        Some(tls) => {
            axum_server::from_tcp_rustls(listener, tls)
                .handle(handle)
                .serve(app)
                .await?;
        }
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(app)
                .await?;
        }
    }
    store.close().await;
    eprintln!("envsync server: stopped");
    Ok(())
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

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
