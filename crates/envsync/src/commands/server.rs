//! `envsync server`: the sync server, from the same binary as the client.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use envsync_server::ServerConfig;

use crate::cli::ServerArgs;
use crate::printer::Printer;

pub fn run(args: ServerArgs, _printer: &Printer) -> Result<ExitCode> {
    let database_url = match args.database_url {
        Some(url) => url,
        None => {
            let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
            private_directory(&data_dir).map_err(|error| {
                anyhow!(
                    "cannot create data directory {}: {error}",
                    data_dir.display()
                )
            })?;
            data_dir.join("envsync.db").display().to_string()
        }
    };
    let config = ServerConfig {
        listen: args.listen,
        database_url,
        tls: args.tls_cert.zip(args.tls_key),
        behind_proxy: args.behind_proxy,
    };
    envsync_server::run(config)?;
    Ok(ExitCode::SUCCESS)
}

/// `$XDG_DATA_HOME/envsync-server`, else `~/.local/share/envsync-server`.
fn default_data_dir() -> PathBuf {
    let from = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    match from("XDG_DATA_HOME") {
        Some(directory) => PathBuf::from(directory).join("envsync-server"),
        None => PathBuf::from(from("HOME").unwrap_or_else(|| ".".into()))
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
