//! The user's own settings, `$XDG_CONFIG_HOME/envsync/config.toml`: per person and machine,
//! never committed. `envsync.toml` is the team's and the same for everyone, so what differs
//! between teammates (where each one's identity lives) cannot go there.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{ClientError, Result};
use crate::files::read_optional;
use crate::stores::StoreUrl;

/// What `config.toml` may hold. Unknown settings are refused, so a typo is not silently
/// ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    /// Where this user's identity lives when `ENVSYNC_IDENTITY` is not set: the path of an
    /// identity file (relative to the settings file's folder) or a cloud secret store URL
    /// (`aws-sm://…`, `vault://…`, …). Never the key itself: a settings file is not the place
    /// for a secret, and an identity file is.
    identity: Option<String>,
}

/// `$XDG_CONFIG_HOME/envsync/config.toml` given the config directory.
pub fn default_path(config_dir: &Path) -> PathBuf {
    config_dir.join("envsync").join("config.toml")
}

impl UserSettings {
    /// The settings in `path`; none when there is no such file.
    pub fn read(path: &Path) -> Result<Self> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(Self::default());
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad(path, None, "not UTF-8 text"))?;
        // toml's full message quotes the offending line; name the line and the problem only.
        let settings: Self = toml::from_str(text).map_err(|error| {
            let line = error
                .span()
                .map(|span| envsync_core::config::line_at(text, span.start));
            bad(path, line, error.message())
        })?;
        if let Some(identity) = &settings.identity
            && crate::identity_store::is_inline_key(identity)
        {
            return Err(bad(
                path,
                None,
                "`identity` holds a secret key itself; put it in an identity file and give \
                 that file's path, or a secret store URL",
            ));
        }
        Ok(settings)
    }

    /// The `identity` setting as `ENVSYNC_IDENTITY` would take it: a store URL as written,
    /// a path made absolute against the settings file's folder.
    pub fn identity(&self, path: &Path) -> Option<String> {
        let identity = self.identity.as_deref()?.trim();
        if identity.is_empty() || StoreUrl::looks_like(identity) {
            return (!identity.is_empty()).then(|| identity.to_owned());
        }
        let folder = path.parent().unwrap_or(Path::new("."));
        Some(folder.join(identity).display().to_string())
    }
}

fn bad(path: &Path, line: Option<usize>, problem: &str) -> ClientError {
    let place = line
        .map(|line| format!(" (line {line})"))
        .unwrap_or_default();
    ClientError::Input(format!(
        "{}{place} is not valid envsync settings: {}",
        path.display(),
        problem.trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> (tempfile::TempDir, PathBuf, Result<UserSettings>) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let read = UserSettings::read(&path);
        (directory, path, read)
    }

    #[test]
    fn identity_is_a_store_url_or_a_path_beside_the_file() {
        let (_dir, path, read) = settings("identity = \"aws-sm://ci/alice?region=eu-west-1\"\n");
        let url = read.unwrap().identity(&path).unwrap();
        assert_eq!(url, "aws-sm://ci/alice?region=eu-west-1");
        let (dir, path, read) = settings("identity = \"keys/me.txt\"\n");
        let file = read.unwrap().identity(&path).unwrap();
        assert_eq!(file, dir.path().join("keys/me.txt").display().to_string());
        let (_dir, path, read) = settings("");
        assert!(read.unwrap().identity(&path).is_none());
        let missing = UserSettings::read(Path::new("/nonexistent/envsync/config.toml"));
        assert!(missing.unwrap().identity.is_none());
    }

    #[test]
    fn a_key_a_typo_or_bad_toml_is_refused_naming_the_file() {
        let key = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        for (text, needle) in [
            (
                format!("identity = \"{key}\"\n"),
                "secret key itself".to_owned(),
            ),
            ("identiy = \"x\"\n".to_owned(), "(line 1)".to_owned()),
            ("identity = \n".to_owned(), "(line 1)".to_owned()),
            (
                "# mine\nidentiy = \"x\"\n".to_owned(),
                "(line 2)".to_owned(),
            ),
        ] {
            let (_dir, path, read) = settings(&text);
            let message = read.unwrap_err().to_string();
            assert!(
                message.starts_with(&path.display().to_string()),
                "{message}"
            );
            assert!(message.contains(&needle), "{message}");
            assert!(
                !message.contains("QQQQ"),
                "the key is never shown: {message}"
            );
        }
    }
}
