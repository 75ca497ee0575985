//! Per-user server tokens: `$XDG_CONFIG_HOME/envsync/credentials.toml` (else
//! `~/.config/envsync/credentials.toml`), mode 0600, one table per server URL:
//!
//! ```toml
//! ["https://envsync.example.com"]
//! token = "esk_…"
//! account = "alice-3f2a"
//! token_id = "5c1d0e9a7b44"
//! ```
//!
//! Tokens are per user, not per workspace, so they never sit in a repository. The
//! `ENVSYNC_TOKEN` variable (a CI job's token) overrides the file, for the one server
//! `ENVSYNC_SERVER` names: the remote comes from `envsync.toml`, which a pull request may
//! change, so the token must not follow it.

use std::fmt;
use std::path::{Path, PathBuf};

use envsync_core::credentials::{self as credentials_format, CredentialEntry, Credentials};
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};
use crate::files::{read_optional, write_atomic};
use crate::server_url::normalise_server_url;

/// A server token. Not `Debug`, not `Serialize`, zeroized on drop: it reaches the wire and
/// the credentials file only through [`Token::expose_secret`].
#[derive(Clone)]
pub struct Token(Zeroizing<String>);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into().trim().to_owned()))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

/// What `envsync join` or `envsync login` stored for one server.
#[derive(Clone)]
pub struct ServerCredentials {
    pub token: Token,
    pub account: String,
    /// The token's public id, to revoke it by; unknown after `login` with a pasted token.
    pub token_id: Option<String>,
}

/// Where tokens come from; resolved by the binary's settings layer, which owns environment
/// variables.
#[derive(Clone)]
pub struct CredentialsConfig {
    /// `$XDG_CONFIG_HOME/envsync/credentials.toml` or `~/.config/envsync/credentials.toml`.
    pub path: PathBuf,
    /// `ENVSYNC_TOKEN`: used instead of the file, for [`Self::override_server`] only.
    pub override_token: Option<Token>,
    /// `ENVSYNC_SERVER`: the server `ENVSYNC_TOKEN` belongs to, as the job's owner set it.
    pub override_server: Option<String>,
}

impl fmt::Debug for CredentialsConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CredentialsConfig")
            .field("path", &self.path)
            .field("override_token", &self.override_token.as_ref().map(|_| "…"))
            .field("override_server", &self.override_server)
            .finish()
    }
}

const HEADER: &str = "# envsync server tokens, written by `envsync join` and `envsync login`. Secret: keep it mode 0600.\n";

impl CredentialsConfig {
    /// The token to send to `server`: `ENVSYNC_TOKEN` when `ENVSYNC_SERVER` names `server`,
    /// else the stored one. With `ENVSYNC_TOKEN` set, any other server is refused rather
    /// than sent the stored token: the job meant its token, and a wrong remote is news.
    pub fn token_for(&self, server: &str) -> Result<Option<Token>> {
        if let Some(token) = &self.override_token {
            self.check_token_server(server)?;
            return Ok(Some(token.clone()));
        }
        Ok(self.get(server)?.map(|credentials| credentials.token))
    }

    /// Whether `ENVSYNC_TOKEN` may go to `server`: only when `ENVSYNC_SERVER` names it.
    fn check_token_server(&self, server: &str) -> Result<()> {
        let remote = normalise_server_url(server)?;
        let token_server = match &self.override_server {
            Some(url) => Some(
                normalise_server_url(url)
                    .map_err(|error| ClientError::Input(format!("ENVSYNC_SERVER: {error}")))?,
            ),
            None => None,
        };
        if token_server.as_deref() == Some(remote.as_str()) {
            return Ok(());
        }
        Err(ClientError::TokenForAnotherServer {
            remote,
            token_server,
        })
    }

    pub fn get(&self, server: &str) -> Result<Option<ServerCredentials>> {
        let server = normalise_server_url(server)?;
        let mut entries = self.read()?;
        Ok(entries.remove(&server).map(|entry| ServerCredentials {
            token: Token::new(entry.token),
            account: entry.account,
            token_id: entry.token_id,
        }))
    }

    /// Stores (or replaces) the credentials for `server`, atomically and with mode 0600.
    pub fn save(&self, server: &str, credentials: &ServerCredentials) -> Result<()> {
        let server = normalise_server_url(server)?;
        let mut entries = self.read()?;
        entries.insert(
            server,
            CredentialEntry {
                token: credentials.token.expose_secret().to_owned(),
                account: credentials.account.clone(),
                token_id: credentials.token_id.clone(),
            },
        );
        self.write(&entries)
    }

    /// Forgets `server`'s token (after revoking it); `false` when none was stored.
    pub fn remove(&self, server: &str) -> Result<bool> {
        let server = normalise_server_url(server)?;
        let mut entries = self.read()?;
        let removed = entries.remove(&server).is_some();
        if removed {
            self.write(&entries)?;
        }
        Ok(removed)
    }

    fn read(&self) -> Result<Credentials> {
        let Some(bytes) = read_optional(&self.path)? else {
            return Ok(Credentials::new());
        };
        let bytes = Zeroizing::new(bytes);
        credentials_format::parse(&bytes).map_err(|source| ClientError::Credentials {
            path: self.path.clone(),
            source,
        })
    }

    fn write(&self, entries: &Credentials) -> Result<()> {
        let body = Zeroizing::new(credentials_format::to_toml(entries));
        let text = Zeroizing::new(format!("{HEADER}{}", body.as_str()));
        write_atomic(&self.path, text.as_bytes())
    }
}

/// `$XDG_CONFIG_HOME/envsync/credentials.toml` given the config directory.
pub fn default_path(config_dir: &Path) -> PathBuf {
    config_dir.join("envsync").join("credentials.toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server_url::is_server_url;

    fn config(dir: &Path) -> CredentialsConfig {
        CredentialsConfig {
            path: default_path(dir),
            override_token: None,
            override_server: None,
        }
    }

    #[test]
    fn round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let store = config(dir.path());
        assert!(store.get("http://127.0.0.1:8787").unwrap().is_none());
        let saved = ServerCredentials {
            token: Token::new("esk_0123456789ab_secret"),
            account: "alice-1a2b".into(),
            token_id: Some("0123456789ab".into()),
        };
        store.save("http://127.0.0.1:8787/", &saved).unwrap();
        store
            .save(
                "https://other.example",
                &ServerCredentials {
                    token: Token::new("esk_other"),
                    account: "bob".into(),
                    token_id: None,
                },
            )
            .unwrap();
        let loaded = store.get("HTTP://127.0.0.1:8787").unwrap().unwrap();
        assert_eq!(loaded.token.expose_secret(), "esk_0123456789ab_secret");
        assert_eq!(loaded.account, "alice-1a2b");
        assert_eq!(loaded.token_id.as_deref(), Some("0123456789ab"));
        let other = store.get("https://other.example").unwrap().unwrap();
        assert_eq!(other.token.expose_secret(), "esk_other");
        assert_eq!(other.token_id, None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&store.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&store.path).unwrap();
        assert!(text.contains("[\"http://127.0.0.1:8787\"]"), "{text}");
        assert!(store.remove("http://127.0.0.1:8787").unwrap());
        assert!(store.get("http://127.0.0.1:8787").unwrap().is_none());
        assert!(store.get("https://other.example").unwrap().is_some());
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = config(dir.path());
        store
            .save(
                "http://a",
                &ServerCredentials {
                    token: Token::new("esk_file"),
                    account: "a".into(),
                    token_id: None,
                },
            )
            .unwrap();
        store.override_token = Some(Token::new("esk_env"));
        store.override_server = Some("HTTP://A/".into());
        let token = store.token_for("http://a").unwrap().unwrap();
        assert_eq!(token.expose_secret(), "esk_env");
        assert!(!format!("{store:?}").contains("esk_env"));
    }

    #[test]
    fn the_environments_token_goes_only_to_its_server() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = config(dir.path());
        store.override_token = Some(Token::new("esk_env"));
        let Err(error) = store.token_for("http://a") else {
            panic!("ENVSYNC_TOKEN without ENVSYNC_SERVER must not be sent");
        };
        assert!(error.to_string().contains("ENVSYNC_SERVER"), "{error}");
        store.override_server = Some("https://envsync.example.com".into());
        let Err(error) = store.token_for("https://evil.example") else {
            panic!("ENVSYNC_TOKEN must not go to another server");
        };
        let message = error.to_string();
        assert!(message.contains("https://envsync.example.com"), "{message}");
        assert!(message.contains("https://evil.example"), "{message}");
        assert!(!message.contains("esk_env"), "{message}");
    }

    #[test]
    fn a_garbled_file_is_named_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = config(dir.path());
        std::fs::create_dir_all(store.path.parent().unwrap()).unwrap();
        std::fs::write(&store.path, "[\"http://a\"]\ntoken = \"esk_leak\nbroken").unwrap();
        let Err(error) = store.get("http://a") else {
            panic!("a garbled file must not load");
        };
        let error = error.to_string();
        assert!(error.contains("credentials.toml is not a valid"), "{error}");
        assert!(error.contains("(line 2: it is not valid TOML)"), "{error}");
        assert!(!error.contains("esk_leak"), "{error}");
    }

    #[test]
    fn server_urls_are_normalised() {
        assert_eq!(
            normalise_server_url(" HTTPS://Example.COM:8443/ ").unwrap(),
            "https://example.com:8443"
        );
        assert_eq!(
            normalise_server_url("http://host/envsync/").unwrap(),
            "http://host/envsync"
        );
        for bad in [
            "ftp://host",
            "host:80",
            "http://",
            "http://u:p@host",
            "http://h?x=1",
        ] {
            assert!(normalise_server_url(bad).is_err(), "{bad}");
        }
        assert!(is_server_url("HTTP://x") && !is_server_url("s3://bucket"));
    }
}
