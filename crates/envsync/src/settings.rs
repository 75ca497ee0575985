//! The settings a command runs with: flags and environment variables resolved once, when a
//! command needs them. The variables are declared in `envsync_client::env_vars::EnvVars`
//! and documented in one table in docs/guide.md ("Environment variables").

use std::path::PathBuf;

use anyhow::{Context, Result};
use envsync_client::ClientError;
use envsync_client::credentials::{self, CredentialsConfig, Token};
use envsync_client::engine::{Session, SessionOptions};
use envsync_client::env_vars::{self, EnvVars};
use envsync_client::identity_store::{DefaultName, IdentityConfig, OverrideSource};
use envsync_client::remote::RemoteSpec;
use envsync_client::server_api::ApiClient;
use envsync_client::server_url;
use envsync_client::user_settings::{self, UserSettings};
use envsync_client::workspace::Workspace;

use crate::cli::GlobalArgs;

/// envsync's own secrets among the variables of [`EnvVars`]. `envsync run` removes them
/// from the environment of the command it starts: that command was given a project's
/// variables, not the keys to every environment, and a child that prints its environment (a crash report,
/// `env` in a CI log) must not publish them. Expansion never reads them either.
pub const OWN_SECRETS: &[&str] = &[
    EnvVars::ENVSYNC_IDENTITY,
    EnvVars::ENVSYNC_TOKEN,
    EnvVars::ENVSYNC_PASSPHRASE,
    EnvVars::ENVSYNC_DATABASE_URL,
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
        let config_dir = config_dir();
        let (override_value, override_source) = identity_override(&config_dir)?;
        let default_path = config_dir.join("envsync").join("identity.txt");
        // Asking git costs a process; only worth it when an identity may be created. The
        // name is worked out only when it is needed, which is before any identity is stored.
        let creating = {
            let overridden = override_value.is_some();
            let default_path = default_path.clone();
            move || {
                !overridden
                    && !default_path.exists()
                    && !default_path.with_extension("keychain").exists()
            }
        };
        Ok(Self {
            directory,
            passphrase: env_vars::var(EnvVars::ENVSYNC_PASSPHRASE),
            yes: global.yes,
            identity: IdentityConfig {
                override_value,
                override_source,
                default_path,
                default_name: DefaultName::new(move || default_name(creating())),
                use_keychain: env_vars::var(EnvVars::ENVSYNC_KEYCHAIN)
                    .is_none_or(|value| value != "off" && value != "0"),
            },
            credentials: CredentialsConfig {
                path: credentials::default_path(&config_dir),
                override_token: env_vars::var(EnvVars::ENVSYNC_TOKEN).map(Token::new),
                override_server: env_vars::var(EnvVars::ENVSYNC_SERVER),
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
            Some(url) => server_url::normalise_server_url(url),
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
    server_url::normalise_server_url(remote)
}

/// `$XDG_STATE_HOME/envsync`, else `~/.local/state/envsync`: the ledger of what this user
/// verified, which must outlive any workspace.
fn state_home() -> PathBuf {
    if let Some(directory) = env_vars::var(EnvVars::XDG_STATE_HOME) {
        return PathBuf::from(directory).join("envsync");
    }
    let home = env_vars::var(EnvVars::HOME).unwrap_or_else(|| ".".into());
    PathBuf::from(home)
        .join(".local")
        .join("state")
        .join("envsync")
}

/// `ENVSYNC_IDENTITY`, else the `identity` setting of the user's settings file: where the
/// identity lives when it is not the default one, and which of the two said so.
fn identity_override(config_dir: &std::path::Path) -> Result<(Option<String>, OverrideSource)> {
    if let Some(value) = env_vars::var(EnvVars::ENVSYNC_IDENTITY) {
        return Ok((Some(value), OverrideSource::Variable));
    }
    let path = user_settings::default_path(config_dir);
    let identity = UserSettings::read(&path)?.identity(&path);
    Ok((identity, OverrideSource::Setting(path)))
}

fn config_dir() -> PathBuf {
    if let Some(directory) = env_vars::var(EnvVars::XDG_CONFIG_HOME) {
        return PathBuf::from(directory);
    }
    let home = env_vars::var(EnvVars::HOME).unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".config")
}

/// `ENVSYNC_NAME`, else git's `user.email`, else `user@host`.
fn default_name(ask_git: bool) -> String {
    if let Some(name) = env_vars::var(EnvVars::ENVSYNC_NAME) {
        return name;
    }
    if ask_git && let Some(email) = git_email() {
        return email;
    }
    let user = env_vars::var(EnvVars::USER).unwrap_or_else(|| "someone".into());
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
