//! The contents of a `.share` bundle, once its passphrase has opened it: a JSON document
//! naming the project, the workspace's `envsync.toml` and who shared it.
//!
//! Sealing and opening are the client's (scrypt, age); parsing and the checks `join` makes on
//! the opened text live here, free of I/O, so that the fuzzer reaches them without a
//! passphrase.

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError};

/// The only bundle format this version writes and reads.
pub const FORMAT: u32 = 1;

/// An opened bundle. Not `Debug`: `invite` is a code that admits whoever holds it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareBundle {
    pub format: u32,
    pub project: String,
    /// The workspace's envsync.toml, with a folder remote made absolute.
    pub config: String,
    pub shared_by: String,
    /// The sharer's member key: it must be a member on the remote the joiner finds.
    pub shared_by_key: String,
    /// For an envsync server remote: a one-time invite code, redeemed before anything else
    /// so the joiner has an account and a token to reach the server with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
}

/// Why opened bytes are not a bundle `join` can use. None quotes the invite code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShareBundleError {
    #[error("the bundle is not an envsync share bundle: {0}")]
    NotABundle(#[source] serde_json::Error),
    #[error("bundle format {found} is not supported; upgrade envsync")]
    Format { found: u32 },
    #[error("the bundle's envsync.toml is invalid: {0}")]
    Config(#[source] ConfigError),
    /// The project shared is not one the shared `envsync.toml` declares: joining would
    /// write a configuration without it.
    #[error("the bundle shares project `{project}`, which its envsync.toml does not declare")]
    UnknownProject { project: String },
    #[error("the bundle does not say who shared it (`shared_by_key` is empty)")]
    NoSharer,
}

impl ShareBundle {
    /// Parses an opened bundle and its `envsync.toml`, refusing another format, a config
    /// that does not parse, a project that config lacks, or no sharer.
    pub fn parse(json: &[u8]) -> Result<(Self, Config), ShareBundleError> {
        let bundle: Self = serde_json::from_slice(json).map_err(ShareBundleError::NotABundle)?;
        if bundle.format != FORMAT {
            return Err(ShareBundleError::Format {
                found: bundle.format,
            });
        }
        let config = Config::parse(&bundle.config).map_err(ShareBundleError::Config)?;
        if !config.projects.contains_key(&bundle.project) {
            return Err(ShareBundleError::UnknownProject {
                project: bundle.project,
            });
        }
        if bundle.shared_by_key.trim().is_empty() {
            return Err(ShareBundleError::NoSharer);
        }
        Ok((bundle, config))
    }

    /// The JSON the passphrase seals; [`ShareBundle::parse`] reads it back.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a bundle always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "remote = \"/srv/envsync\"\n\n[projects.api.environments]\n\
                          development = \".env\"\n";

    fn bundle() -> ShareBundle {
        ShareBundle {
            format: FORMAT,
            project: "api".into(),
            config: CONFIG.into(),
            shared_by: "Ada".into(),
            shared_by_key: "age1example:key".into(),
            invite: Some("esi_code".into()),
        }
    }

    #[test]
    fn a_bundle_reads_back() {
        let (read, config) = ShareBundle::parse(&bundle().to_json()).unwrap();
        assert!(read == bundle());
        assert_eq!(config.remote, "/srv/envsync");
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let refusal = |bundle: ShareBundle| match ShareBundle::parse(&bundle.to_json()) {
            Ok(_) => panic!("a bad bundle parsed"),
            Err(error) => error.to_string(),
        };
        let mut newer = bundle();
        newer.format = 2;
        assert!(refusal(newer).contains("format 2 is not supported"));
        let mut other = bundle();
        other.project = "web".into();
        assert!(refusal(other).contains("project `web`"));
        let mut broken = bundle();
        broken.config = "remote = ".into();
        assert!(refusal(broken).contains("envsync.toml is invalid: 1:"));
        let mut anonymous = bundle();
        anonymous.shared_by_key = " ".into();
        assert!(refusal(anonymous).contains("shared_by_key"));
        let Err(error) = ShareBundle::parse(b"{\"format\": 1}") else {
            panic!("a partial bundle parsed");
        };
        assert!(
            error.to_string().contains("missing field `project`"),
            "{error}"
        );
    }
}
