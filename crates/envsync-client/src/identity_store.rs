//! Where an identity lives: `ENVSYNC_IDENTITY` (a path or the key itself), else the user's
//! config directory with mode 0600.

use std::path::PathBuf;

use envsync_crypto::Identity;

use crate::error::{ClientError, Result};
use crate::files::write_atomic;
use crate::records::now_rfc3339;

/// Resolved by the binary's settings layer, which owns environment variables.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// `ENVSYNC_IDENTITY`: a path to an identity file, or an `AGE-SECRET-KEY-1…` string.
    pub override_value: Option<String>,
    /// `$XDG_CONFIG_HOME/envsync/identity.txt` or `~/.config/envsync/identity.txt`.
    pub default_path: PathBuf,
    /// Name used when an identity is created or carries no `# name:` line.
    pub default_name: String,
}

impl IdentityConfig {
    /// Where the identity comes from, for messages.
    pub fn origin(&self) -> String {
        match &self.override_value {
            Some(value) if value.trim_start().starts_with("AGE-SECRET-KEY-1") => {
                "ENVSYNC_IDENTITY (inline key)".into()
            }
            Some(path) => format!("ENVSYNC_IDENTITY={path}"),
            None => self.default_path.display().to_string(),
        }
    }

    pub fn load(&self) -> Result<Option<Identity>> {
        let (text, origin) = match &self.override_value {
            Some(value) if value.trim_start().starts_with("AGE-SECRET-KEY-1") => {
                (zeroize::Zeroizing::new(value.clone()), self.origin())
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
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(error) => {
                    return Err(ClientError::BadIdentity {
                        origin: self.origin(),
                        reason: error.to_string(),
                    });
                }
            },
        };
        Identity::parse(&text, &self.default_name)
            .map(Some)
            .map_err(|error| ClientError::BadIdentity {
                origin,
                reason: error.to_string(),
            })
    }

    pub fn require(&self) -> Result<Identity> {
        self.load()?
            .ok_or_else(|| ClientError::NoIdentity(self.default_path.clone()))
    }

    /// Writes a new identity to the default path; refuses to replace one unless `force`,
    /// because a lost identity cannot read any version encrypted to it.
    pub fn create(&self, name: Option<&str>, force: bool) -> Result<Identity> {
        if self.override_value.is_some() {
            return Err(ClientError::Input(
                "ENVSYNC_IDENTITY is set: unset it to create an identity in the config directory"
                    .into(),
            ));
        }
        if self.default_path.exists() && !force {
            return Err(ClientError::Input(format!(
                "an identity already exists at {}; pass --force to replace it (versions encrypted to the old one stay unreadable to the new one)",
                self.default_path.display()
            )));
        }
        let identity = Identity::generate(name.unwrap_or(&self.default_name));
        write_atomic(
            &self.default_path,
            identity.to_identity_file(&now_rfc3339()).as_bytes(),
        )?;
        Ok(identity)
    }

    /// The identity, created on first need; the flag says whether it was just created.
    pub fn load_or_create(&self) -> Result<(Identity, bool)> {
        match self.load()? {
            Some(identity) => Ok((identity, false)),
            None => Ok((self.create(None, false)?, true)),
        }
    }
}
