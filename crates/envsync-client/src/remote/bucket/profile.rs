//! The parts of the AWS shared config files (`~/.aws/credentials`, `~/.aws/config`) that an
//! S3 remote needs: static keys, region and endpoint of one profile.
//!
//! `object_store` reads only environment variables, but most people keep their keys in a
//! profile. Profiles that need a process of their own to produce keys (SSO, assume-role,
//! `credential_process`) are out of scope: export their keys into the environment instead,
//! e.g. with `aws configure export-credentials --format env`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::env_vars::{self, EnvVars};
use crate::error::{ClientError, Result};

/// What one profile says. Holds a secret key: deliberately no `Debug`.
#[derive(Default)]
pub(crate) struct Profile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Zeroizing<String>>,
    pub session_token: Option<Zeroizing<String>>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The files and profile name, resolved from the environment the way the AWS CLI does.
pub(crate) struct ProfileSource {
    pub name: String,
    pub credentials_file: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
}

impl ProfileSource {
    pub fn from_env() -> Self {
        let home = env_vars::var_os(EnvVars::HOME).map(PathBuf::from);
        let file = |variable: &str, default: &str| {
            env_vars::var_os(variable)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|home| home.join(".aws").join(default)))
        };
        Self {
            name: env_vars::var(EnvVars::AWS_PROFILE).unwrap_or_else(|| "default".to_owned()),
            credentials_file: file(EnvVars::AWS_SHARED_CREDENTIALS_FILE, "credentials"),
            config_file: file(EnvVars::AWS_CONFIG_FILE, "config"),
        }
    }

    /// Reads the profile; missing files are simply empty, since most machines have none.
    /// Values in the credentials file win over the config file, as in the AWS CLI.
    pub fn load(&self) -> Result<Profile> {
        let mut values = HashMap::new();
        if let Some(path) = &self.config_file {
            // The config file names every profile but the default one `[profile NAME]`.
            let section = if self.name == "default" {
                "default".to_owned()
            } else {
                format!("profile {}", self.name)
            };
            values.extend(read_section(path, &[section.as_str(), &self.name])?);
        }
        if let Some(path) = &self.credentials_file {
            values.extend(read_section(path, &[&self.name])?);
        }
        let mut take = |key: &str| values.remove(key).filter(|value| !value.is_empty());
        Ok(Profile {
            access_key_id: take("aws_access_key_id"),
            secret_access_key: take("aws_secret_access_key").map(Zeroizing::new),
            session_token: take("aws_session_token").map(Zeroizing::new),
            region: take("region"),
            endpoint_url: take("endpoint_url"),
        })
    }
}

/// The `key = value` pairs of the first section named one of `names` in an INI file.
fn read_section(path: &Path, names: &[&str]) -> Result<HashMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(error) => {
            return Err(ClientError::io(
                format!("reading {}", path.display()),
                error,
            ));
        }
    };
    let mut values = HashMap::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            if inside {
                break;
            }
            inside = names.contains(&header.trim());
            continue;
        }
        if inside && let Some((key, value)) = line.split_once('=') {
            values.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, dir: &Path) -> ProfileSource {
        ProfileSource {
            name: name.to_owned(),
            credentials_file: Some(dir.join("credentials")),
            config_file: Some(dir.join("config")),
        }
    }

    #[test]
    fn reads_keys_region_and_endpoint_of_the_named_profile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n[team]\n# comment\naws_access_key_id=AKIATEAM\naws_secret_access_key = s2\naws_session_token = t2\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("config"),
            "[default]\nregion = us-east-1\n[profile team]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9000\n",
        )
        .unwrap();
        let team = source("team", dir.path()).load().unwrap();
        assert_eq!(team.access_key_id.as_deref(), Some("AKIATEAM"));
        assert_eq!(
            team.secret_access_key.as_deref().map(String::as_str),
            Some("s2")
        );
        assert_eq!(
            team.session_token.as_deref().map(String::as_str),
            Some("t2")
        );
        assert_eq!(team.region.as_deref(), Some("eu-west-3"));
        assert_eq!(team.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        let default = source("default", dir.path()).load().unwrap();
        assert_eq!(default.access_key_id.as_deref(), Some("AKIADEFAULT"));
        assert_eq!(default.region.as_deref(), Some("us-east-1"));
        assert!(default.endpoint_url.is_none());
    }

    #[test]
    fn missing_files_are_an_empty_profile() {
        let dir = tempfile::tempdir().unwrap();
        let profile = source("default", dir.path()).load().unwrap();
        assert!(profile.access_key_id.is_none() && profile.region.is_none());
    }
}
