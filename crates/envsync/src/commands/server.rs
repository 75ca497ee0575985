//! `envsync server`: the sync server, from the same binary as the client. The server
//! library binds and serves; this command owns the runtime, the log subscriber, the signals
//! that stop it and every line printed (scripts and tests wait for the `listening` line).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use envsync_client::env_vars::{self, EnvVars};
use envsync_server::store::redact_url;
use envsync_server::{Bound, Server, ServerConfig};

use crate::cli::{LogFormat, ServerAction, ServerArgs, ServerDatabaseArgs};
use crate::printer::Printer;

pub fn run(args: ServerArgs, printer: &Printer) -> Result<ExitCode> {
    let database_url = database_url(&args.database)?;
    match args.action {
        Some(ServerAction::Backup { file }) => return backup(&database_url, &file, printer),
        Some(ServerAction::Restore { file }) => return restore(&database_url, &file, printer),
        None => {}
    }
    let config = ServerConfig {
        listen: args.listen,
        database_url,
        tls: args.tls_cert.zip(args.tls_key),
        behind_proxy: args.behind_proxy,
        dashboard_unlock: args.dashboard_unlock,
        record_cache_bytes: args.record_cache_mib.saturating_mul(1024 * 1024),
    };
    install_log_subscriber(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| anyhow!("server: cannot start the async runtime: {error}"))?;
    runtime.block_on(async {
        let unlock = config.dashboard_unlock;
        let bound = Server::bind(config).await?;
        announce(&bound, unlock, printer);
        bound
            .run(async {
                shutdown_signal().await;
                printer.message("envsync server: shutting down, finishing requests in flight");
            })
            .await?;
        printer.message("envsync server: stopped");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}

/// `--database-url`, else `envsync.db` in the data directory (created, private).
fn database_url(args: &ServerDatabaseArgs) -> Result<String> {
    if let Some(url) = &args.database_url {
        return Ok(url.clone());
    }
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    private_directory(&data_dir).map_err(|error| {
        anyhow!(
            "cannot create data directory {}: {error}",
            data_dir.display()
        )
    })?;
    Ok(data_dir.join("envsync.db").display().to_string())
}

fn backup(database_url: &str, file: &Path, printer: &Printer) -> Result<ExitCode> {
    let copied = envsync_server::backup::backup(database_url, file)?;
    printer.message(format!(
        "backed up {} to {} ({} bytes, {} versions)",
        redact_url(database_url),
        file.display(),
        copied.bytes,
        copied.versions
    ));
    Ok(ExitCode::SUCCESS)
}

fn restore(database_url: &str, file: &Path, printer: &Printer) -> Result<ExitCode> {
    let copied = envsync_server::backup::restore(database_url, file)?;
    printer.message(format!(
        "restored {} from {} ({} versions); clients that saw newer versions will say so: \
         `envsync repair` on a member's machine puts back what it verified",
        redact_url(database_url),
        file.display(),
        copied.versions
    ));
    Ok(ExitCode::SUCCESS)
}

/// Logs to stderr at `ENVSYNC_LOG` (default `info`): in colour for a person at a terminal,
/// plain text for journald, files and pipes, or one JSON object a line for log shippers.
fn install_log_subscriber(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env(EnvVars::ENVSYNC_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// What the operator needs before clients connect: a plain-text warning, the setup code,
/// and last the `listening` line scripts wait for.
fn announce(bound: &Bound, unlock: bool, printer: &Printer) {
    let (address, url) = (bound.local_addr, &bound.url);
    if bound.plain_text_exposed {
        printer.message(format!(
            "warning: plain HTTP on {address}: tokens and setup codes cross the network \
             unencrypted; serve HTTPS with --tls-cert/--tls-key, or listen on loopback behind \
             a TLS proxy (--behind-proxy)"
        ));
    }
    if let Some(code) = &bound.setup_code {
        printer.message(format!("owner setup code: {code}"));
        printer.message(format!(
            "  join as the server's owner with: envsync join {url} {code}"
        ));
        printer.message(
            "  (each start prints one more code, and earlier ones stay valid, until one is used)",
        );
    }
    printer.message(format!(
        "web dashboard: {url}/ (sign in from a client with `envsync dashboard`)"
    ));
    if unlock {
        printer.message(
            "  unlocking is on (--dashboard-unlock): users may decrypt values in the page, \
             which trusts the script this server sends",
        );
    }
    printer.message(format!(
        "envsync server listening on {url} (database {})",
        bound.database
    ));
}

/// SIGINT or SIGTERM (only Ctrl-C where there is no SIGTERM).
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

/// `$XDG_DATA_HOME/envsync-server`, else `~/.local/share/envsync-server`.
fn default_data_dir() -> PathBuf {
    match env_vars::var_os(EnvVars::XDG_DATA_HOME) {
        Some(directory) => PathBuf::from(directory).join("envsync-server"),
        None => PathBuf::from(env_vars::var_os(EnvVars::HOME).unwrap_or_else(|| ".".into()))
            .join(".local/share/envsync-server"),
    }
}

/// Creates the data directory readable by the server's user only (0700), and tightens an
/// existing one: it holds the database with hashed tokens, accounts and the audit log.
fn private_directory(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(path)
}
