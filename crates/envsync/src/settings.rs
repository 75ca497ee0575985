//! Every environment variable envsync reads, resolved in one place.
//!
//! | variable | meaning |
//! |---|---|
//! | `ENVSYNC_IDENTITY` | path to an identity file, or an `AGE-SECRET-KEY-1…` key itself (CI) |
//! | `ENVSYNC_NAME` | your name for a new identity |
//! | `ENVSYNC_KEYCHAIN` | `off` keeps new identities in the config file instead of the OS keychain |
//! | `ENVSYNC_PASSPHRASE` | the passphrase of a `.share` bundle, for `envsync join` in scripts |
//! | `ENVSYNC_TOKEN` | an envsync server token (`esk_…`, e.g. a CI token), used instead of the stored one, and only for the server `ENVSYNC_SERVER` names |
//! | `ENVSYNC_SERVER` | the server URL `ENVSYNC_TOKEN` belongs to; required with it, and must match the workspace's remote |
//! | `ENVSYNC_DATABASE_URL` | the database of `envsync server` (read by clap in cli.rs) |
//! | `ENVSYNC_CA_CERT` | a PEM file of the certificate authorities to trust for https:// servers instead of the web's (read by envsync-client) |
//! | `XDG_STATE_HOME` | where the ledger of verified histories is kept: `$XDG_STATE_HOME/envsync/ledger/`, else `~/.local/state/envsync/ledger/` |
//! | `XDG_CONFIG_HOME`, `HOME` | where the identity and server tokens are kept: `$XDG_CONFIG_HOME/envsync/identity.txt` and `credentials.toml`, else under `~/.config/envsync/` |

use std::path::PathBuf;

use anyhow::{Context, Result};
use envsync_client::ClientError;
use envsync_client::credentials::{self, CredentialsConfig, Token};
use envsync_client::engine::{Session, SessionOptions};
use envsync_client::identity_store::IdentityConfig;
use envsync_client::remote::RemoteSpec;
use envsync_client::server_api::ApiClient;
use envsync_client::workspace::Workspace;

use crate::cli::GlobalArgs;

/// envsync's own secrets among the variables above. `envsync run` removes them from the
/// environment of the command it starts: that command was given a project's variables, not
/// the keys to every environment, and a child that prints its environment (a crash report,
/// `env` in a CI log) must not publish them. Expansion never reads them either.
pub const OWN_SECRETS: &[&str] = &[
    "ENVSYNC_IDENTITY",
    "ENVSYNC_TOKEN",
    "ENVSYNC_PASSPHRASE",
    "ENVSYNC_DATABASE_URL",
];

pub struct Settings {
    pub directory: PathBuf,
    pub passphrase: Option<String>,
    pub yes: bool,
    pub identity: IdentityConfig,
    pub credentials: CredentialsConfig,
}

impl Settings {
    pub fn resolve(global: &GlobalArgs) -> Result<Self> {
        let current = std::env::current_dir().context("reading the current directory")?;
        let directory = match &global.directory {
            Some(directory) => current.join(directory),
            None => current,
        };
        let override_value = non_empty_var("ENVSYNC_IDENTITY");
        let config_dir = config_dir();
        let default_path = config_dir.join("envsync").join("identity.txt");
        // Asking git costs a process; only worth it when an identity may be created.
        let creating = override_value.is_none()
            && !default_path.exists()
            && !default_path.with_extension("keychain").exists();
        Ok(Self {
            directory,
            passphrase: non_empty_var("ENVSYNC_PASSPHRASE"),
            yes: global.yes,
            identity: IdentityConfig {
                override_value,
                default_path,
                default_name: default_name(creating),
                use_keychain: non_empty_var("ENVSYNC_KEYCHAIN")
                    .is_none_or(|value| value != "off" && value != "0"),
            },
            credentials: CredentialsConfig {
                path: credentials::default_path(&config_dir),
                override_token: non_empty_var("ENVSYNC_TOKEN").map(Token::new),
                override_server: non_empty_var("ENVSYNC_SERVER"),
            },
        })
    }

    pub fn workspace(&self) -> Result<Workspace, envsync_client::ClientError> {
        Workspace::discover(&self.directory)
    }

    pub fn session(&self) -> Result<Session, ClientError> {
        self.session_in(self.workspace()?)
    }

    pub fn session_in(&self, workspace: Workspace) -> Result<Session, ClientError> {
        Session::open(
            workspace,
            self.identity.clone(),
            &self.credentials,
            SessionOptions {
                accept_new_keys: self.yes,
                state_home: Some(state_home()),
            },
        )
    }

    /// A client for `server`'s API with the token stored for it (or `ENVSYNC_TOKEN`, when
    /// `ENVSYNC_SERVER` names `server`).
    pub fn api(&self, server: &str) -> Result<ApiClient, ClientError> {
        ApiClient::new(server, self.credentials.token_for(server)?)
    }

    /// The server a command talks to: `--server URL`, else the workspace's remote.
    pub fn server(&self, explicit: Option<&str>) -> Result<String, ClientError> {
        match explicit {
            Some(url) => credentials::normalise_server_url(url),
            None => server_of(&self.workspace()?),
        }
    }
}

/// The workspace's remote, if it is an envsync server; these commands need one.
pub fn server_of(workspace: &Workspace) -> Result<String, ClientError> {
    let remote = &workspace.config.remote;
    if !RemoteSpec::parse(remote)?.is_server() {
        return Err(ClientError::Input(format!(
            "the remote in {} is `{remote}`, not an envsync server: this command needs an http(s):// remote (or --server URL where offered)",
            workspace.root.join("envsync.toml").display()
        )));
    }
    credentials::normalise_server_url(remote)
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// `$XDG_STATE_HOME/envsync`, else `~/.local/state/envsync`: the ledger of what this user
/// verified, which must outlive any workspace.
fn state_home() -> PathBuf {
    if let Some(directory) = non_empty_var("XDG_STATE_HOME") {
        return PathBuf::from(directory).join("envsync");
    }
    let home = non_empty_var("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home)
        .join(".local")
        .join("state")
        .join("envsync")
}

fn config_dir() -> PathBuf {
    if let Some(directory) = non_empty_var("XDG_CONFIG_HOME") {
        return PathBuf::from(directory);
    }
    let home = non_empty_var("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".config")
}

/// `ENVSYNC_NAME`, else git's `user.email`, else `user@host`.
fn default_name(ask_git: bool) -> String {
    if let Some(name) = non_empty_var("ENVSYNC_NAME") {
        return name;
    }
    if ask_git && let Some(email) = git_email() {
        return email;
    }
    let user = non_empty_var("USER").unwrap_or_else(|| "someone".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// Git's `user.email`.
fn git_email() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["config", "user.email"])
        .output()
        .ok()?;
    let email = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !email.is_empty()).then_some(email)
}
