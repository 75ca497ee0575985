//! Where an identity lives: `ENVSYNC_IDENTITY` (a path, the key itself, or a cloud secret
//! store's URL, fetched into memory for each command); else the OS
//! keychain (Secret Service, macOS Keychain, Windows Credential Manager) when one is
//! reachable; else the user's config directory with mode 0600.
//!
//! A keychain-held identity leaves a small marker file (`identity.keychain`, no secret in
//! it) beside where the file would be, so that users without a keychain never pay for a
//! keychain round trip on every command.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use envsync_crypto::Identity;

use crate::error::{ClientError, Result};
use crate::files::write_atomic;
use crate::records::now_rfc3339;
use crate::stores::StoreUrl;

/// Resolved by the binary's settings layer, which owns environment variables.
#[derive(Clone)]
pub struct IdentityConfig {
    /// `ENVSYNC_IDENTITY`, else the `identity` setting: a path to an identity file, a cloud
    /// secret store URL, or (the variable only) an `AGE-SECRET-KEY-1…` string.
    pub override_value: Option<String>,
    /// Which of the two [`IdentityConfig::override_value`] came from, for messages.
    pub override_source: OverrideSource,
    /// `$XDG_CONFIG_HOME/envsync/identity.txt` or `~/.config/envsync/identity.txt`.
    pub default_path: PathBuf,
    /// Name used when an identity is created or carries no `# name:` line.
    pub default_name: DefaultName,
    /// Whether new identities may go to the OS keychain (`ENVSYNC_KEYCHAIN=off` disables).
    pub use_keychain: bool,
}

/// The name a new identity gets, and one whose file has no `# name:` line. Worked out on
/// first use: that may start `git` or read `/etc/hostname`, which every command did at
/// start before, while an identity envsync wrote names itself and never needs it.
#[derive(Clone)]
pub struct DefaultName {
    work_out: Arc<dyn Fn() -> String + Send + Sync>,
    name: OnceLock<String>,
}

impl DefaultName {
    pub fn new(work_out: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            work_out: Arc::new(work_out),
            name: OnceLock::new(),
        }
    }

    pub fn get(&self) -> &str {
        self.name.get_or_init(|| (self.work_out)())
    }
}

impl From<&str> for DefaultName {
    fn from(name: &str) -> Self {
        let name = name.to_owned();
        Self::new(move || name.clone())
    }
}

const KEYCHAIN_SERVICE: &str = "envsync";

/// `ENVSYNC_IDENTITY` may hold the secret key itself, so its value is never shown.
impl fmt::Debug for IdentityConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IdentityConfig")
            .field("override_value", &self.override_value.as_ref().map(|_| "…"))
            .field("override_source", &self.override_source)
            .field("default_path", &self.default_path)
            .field("default_name", &self.default_name.name.get())
            .field("use_keychain", &self.use_keychain)
            .finish()
    }
}

/// Whether `ENVSYNC_IDENTITY` holds a key rather than a path: anything that starts like one,
/// in any case and even quoted, so that a mangled key is parsed (and refused) as a key
/// instead of being taken for a file name and shown.
/// Where an identity other than the default one was named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OverrideSource {
    /// The `ENVSYNC_IDENTITY` variable.
    #[default]
    Variable,
    /// The `identity` setting of this settings file (`user_settings`).
    Setting(PathBuf),
}

impl fmt::Display for OverrideSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Variable => formatter.write_str("ENVSYNC_IDENTITY"),
            Self::Setting(path) => {
                write!(formatter, "the `identity` setting in {}", path.display())
            }
        }
    }
}

pub(crate) fn is_inline_key(value: &str) -> bool {
    value
        .trim()
        .trim_start_matches(['"', '\''])
        .get(..15)
        .is_some_and(|start| start.eq_ignore_ascii_case("AGE-SECRET-KEY-"))
}

/// Where an identity is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Keychain,
    File,
}

impl IdentityConfig {
    /// Where the identity comes from, for messages. `ENVSYNC_IDENTITY` is shown only when
    /// it names an existing file: any other value may be a mangled secret key, and messages
    /// reach CI logs.
    pub fn origin(&self) -> String {
        let named = |value: &str| match &self.override_source {
            OverrideSource::Variable => format!("ENVSYNC_IDENTITY={value}"),
            setting => format!("{value} ({setting})"),
        };
        match &self.override_value {
            Some(value) if is_inline_key(value) => "ENVSYNC_IDENTITY (inline key)".into(),
            Some(url) if StoreUrl::looks_like(url) => named(url.trim()),
            Some(path) if Path::new(path).exists() => named(path),
            // A setting's path is the user's own file name, not a secret: show it.
            Some(path) if self.override_source != OverrideSource::Variable => named(path),
            Some(_) => "ENVSYNC_IDENTITY (neither an AGE-SECRET-KEY-1… key nor the path of a \
                        file; its value is not shown)"
                .into(),
            None if !self.default_path.exists() && self.marker_path().exists() => {
                "the OS keychain".into()
            }
            None => self.default_path.display().to_string(),
        }
    }

    fn marker_path(&self) -> PathBuf {
        self.default_path.with_extension("keychain")
    }

    /// The keychain account is named after the config path, so separate config directories
    /// (other users of one login, test homes, the demo) never share or overwrite an entry.
    fn keychain_account(&self) -> String {
        format!("identity {}", self.default_path.display())
    }

    fn keychain_entry(&self) -> Result<keyring::Entry> {
        keyring::Entry::new(KEYCHAIN_SERVICE, &self.keychain_account())
            .map_err(|error| ClientError::Input(format!("OS keychain: {error}")))
    }

    fn read_keychain(&self) -> Result<Option<zeroize::Zeroizing<String>>> {
        let entry = self.keychain_entry()?;
        match entry.get_password() {
            Ok(text) => Ok(Some(zeroize::Zeroizing::new(text))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(ClientError::BadIdentity {
                origin: "the OS keychain".into(),
                reason: format!(
                    "{error} (the marker {} says the identity is there; is the keychain unlocked?)",
                    self.marker_path().display()
                ),
            }),
        }
    }

    pub fn load(&self) -> Result<Option<Identity>> {
        let (text, origin) = match &self.override_value {
            Some(value) if is_inline_key(value) => {
                (zeroize::Zeroizing::new(value.clone()), self.origin())
            }
            // Fetched into memory for this command only; never written anywhere.
            Some(url) if StoreUrl::looks_like(url) => {
                (crate::stores::fetch(&StoreUrl::parse(url)?)?, self.origin())
            }
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|error| ClientError::BadIdentity {
                        origin: self.origin(),
                        reason: error.to_string(),
                    })?;
                (zeroize::Zeroizing::new(text), self.origin())
            }
            None => match std::fs::read_to_string(&self.default_path) {
                Ok(text) => (zeroize::Zeroizing::new(text), self.origin()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    if !self.marker_path().exists() {
                        return Ok(None);
                    }
                    match self.read_keychain()? {
                        Some(text) => (text, self.origin()),
                        None => return Ok(None),
                    }
                }
                Err(error) => {
                    return Err(ClientError::BadIdentity {
                        origin: self.origin(),
                        reason: error.to_string(),
                    });
                }
            },
        };
        self.parse(&text)
            .map(Some)
            .map_err(|error| ClientError::BadIdentity {
                origin,
                reason: error.to_string(),
            })
    }

    /// An identity file's text (or a bare key), named by its `# name:` line, else by the
    /// default name, which is worked out only then.
    pub fn parse(&self, text: &str) -> std::result::Result<Identity, envsync_crypto::CryptoError> {
        Identity::parse_with(text, || self.default_name.get().to_owned())
    }

    pub fn require(&self) -> Result<Identity> {
        self.load()?
            .ok_or_else(|| ClientError::NoIdentity(self.default_path.clone()))
    }

    /// Stores a new identity; refuses to replace one unless `force`, because a lost
    /// identity cannot read any version encrypted to it.
    pub fn create(&self, name: Option<&str>, force: bool) -> Result<Identity> {
        let identity = Identity::generate(name.unwrap_or(self.default_name.get()));
        self.store(&identity, force)?;
        Ok(identity)
    }

    /// Keeps `identity` in the keychain when one is reachable, else in the config file.
    pub fn store(&self, identity: &Identity, force: bool) -> Result<Storage> {
        if self.override_value.is_some() {
            return Err(ClientError::Input(format!(
                "{} names the identity: remove it to store an identity on this machine",
                self.override_source
            )));
        }
        if (self.default_path.exists() || self.marker_path().exists()) && !force {
            return Err(ClientError::Input(format!(
                "an identity already exists ({}); pass --force to replace it (versions encrypted to the old one stay unreadable to the new one)",
                self.origin()
            )));
        }
        let text = identity.to_identity_file(&now_rfc3339());
        if self.use_keychain && self.save_to_keychain(&text) {
            let marker = format!(
                "# envsync: the identity is kept in the OS keychain (service `{KEYCHAIN_SERVICE}`, account `{}`)\n",
                self.keychain_account()
            );
            write_atomic(&self.marker_path(), marker.as_bytes())?;
            let _ = std::fs::remove_file(&self.default_path);
            return Ok(Storage::Keychain);
        }
        write_atomic(&self.default_path, text.as_bytes())?;
        let _ = std::fs::remove_file(self.marker_path());
        Ok(Storage::File)
    }

    /// Whether the keychain took the identity; any failure means "no usable keychain here".
    fn save_to_keychain(&self, text: &str) -> bool {
        self.keychain_entry()
            .is_ok_and(|entry| entry.set_password(text).is_ok())
    }

    /// The identity, created on first need; the flag says whether it was just created.
    pub fn load_or_create(&self) -> Result<(Identity, bool)> {
        match self.load()? {
            Some(identity) => Ok((identity, false)),
            None => Ok((self.create(None, false)?, true)),
        }
    }
}
