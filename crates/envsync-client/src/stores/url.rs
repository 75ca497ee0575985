//! Store URLs: where an identity is kept (`ENVSYNC_IDENTITY=aws-sm://ci/app`) and where an
//! environment is published (`to = "github:acme/app"`). One parser for both, so that a URL
//! means the same thing everywhere.
//!
//! A URL names a place, `?region=` (AWS) and, for tests and emulators on this machine only,
//! `?endpoint=`; never a credential: those come from each platform's own chain. Another
//! endpoint comes from the platform's own variables (`AWS_ENDPOINT_URL_SECRETS_MANAGER`,
//! `VAULT_ADDR`, …), never from a URL in `envsync.toml`, which a pull request could point at a
//! server that would then receive the values and the credentials.

use std::fmt;

use crate::error::{ClientError, Result};

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    pub kind: StoreKind,
    /// `?endpoint=`: another API base URL (a private endpoint, a test server).
    pub endpoint: Option<String>,
    /// `?region=` (AWS only).
    pub region: Option<String>,
    text: String,
}

/// What a store URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// `aws-sm://NAME`: one Secrets Manager secret; `aws-sm://PREFIX/*` publishes one secret
    /// per key under `PREFIX/`.
    AwsSecretsManager { name: String, per_key: bool },
    /// `aws-ssm:///PATH`: one SecureString parameter; a path ending in `/` is a folder of them.
    AwsSsm { path: String },
    /// `gcp-sm://projects/P/secrets/S`.
    GcpSecretManager { project: String, secret: String },
    /// `azure-kv://VAULT/NAME`.
    AzureKeyVault { vault: String, name: String },
    /// `vault://MOUNT/PATH#FIELD`: HashiCorp Vault KV version 2 at `VAULT_ADDR`.
    Vault {
        mount: String,
        path: String,
        field: Option<String>,
    },
    /// `github:OWNER/REPO` or `github:OWNER/REPO@ENVIRONMENT`: Actions secrets (publish only).
    GitHub {
        owner: String,
        repo: String,
        environment: Option<String>,
    },
    /// `k8s://NAMESPACE/NAME`: a Secret, through kubectl's current context (publish only).
    Kubernetes { namespace: String, name: String },
}

const SCHEMES: &[&str] = &[
    "aws-sm://",
    "aws-ssm://",
    "gcp-sm://",
    "azure-kv://",
    "vault://",
    "github:",
    "k8s://",
];

impl StoreUrl {
    /// Whether `text` is meant as a store URL (so that `ENVSYNC_IDENTITY` tells one from a
    /// path); it may still be malformed.
    pub fn looks_like(text: &str) -> bool {
        SCHEMES.iter().any(|scheme| text.trim().starts_with(scheme))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = |reason: &str| ClientError::Input(format!("store URL `{text}`: {reason}"));
        let (scheme, rest) = SCHEMES
            .iter()
            .find_map(|scheme| text.strip_prefix(scheme).map(|rest| (*scheme, rest)))
            .ok_or_else(|| {
                bad(&format!(
                    "unknown kind of store (known: {})",
                    SCHEMES.join(" ")
                ))
            })?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (rest, fragment) = match rest.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (rest, None),
        };
        let (endpoint, region) = options(query).map_err(|reason| bad(&reason))?;
        let kind = kind(scheme, rest, fragment).map_err(|reason| bad(&reason))?;
        if fragment.is_some() && !matches!(kind, StoreKind::Vault { .. }) {
            return Err(bad("only vault:// URLs take a #field"));
        }
        if region.is_some() && !kind.is_aws() {
            return Err(bad("only aws-sm:// and aws-ssm:// URLs take ?region="));
        }
        Ok(Self {
            kind,
            endpoint,
            region,
            text: text.to_owned(),
        })
    }
}

impl StoreKind {
    pub fn is_aws(&self) -> bool {
        matches!(self, Self::AwsSecretsManager { .. } | Self::AwsSsm { .. })
    }

    /// Whether publishing can read values back, and so see changed ones (GitHub cannot).
    pub fn values_readable(&self) -> bool {
        !matches!(self, Self::GitHub { .. })
    }

    /// Whether an identity can be kept there: one secret, not a folder of keys.
    pub fn holds_one_secret(&self) -> bool {
        match self {
            Self::AwsSecretsManager { per_key, .. } => !per_key,
            Self::AwsSsm { path } => !path.ends_with('/'),
            Self::GcpSecretManager { .. } | Self::AzureKeyVault { .. } | Self::Vault { .. } => true,
            Self::GitHub { .. } | Self::Kubernetes { .. } => false,
        }
    }
}

/// The URL as written, for messages (it holds no credential).
impl fmt::Display for StoreUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

fn options(query: &str) -> std::result::Result<(Option<String>, Option<String>), String> {
    let (mut endpoint, mut region) = (None, None);
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "endpoint" if value.contains('@') => {
                return Err("`endpoint` must not hold credentials".into());
            }
            "endpoint" if is_loopback_url(value) => {
                endpoint = Some(value.trim_end_matches('/').to_owned());
            }
            "endpoint" => {
                return Err(
                    "`endpoint` must be an http:// or https:// URL on this machine \
                            (127.0.0.1, ::1, localhost); set the platform's own endpoint \
                            variable for another"
                        .into(),
                );
            }
            "region" if is_name(value) => region = Some(value.to_owned()),
            _ => {
                return Err(format!(
                    "unknown option `{key}` (allowed: endpoint, region; credentials come from \
                     the environment, never the URL)"
                ));
            }
        }
    }
    Ok((endpoint, region))
}

fn kind(
    scheme: &str,
    rest: &str,
    fragment: Option<&str>,
) -> std::result::Result<StoreKind, String> {
    match scheme {
        "aws-sm://" | "aws-ssm://" => aws_kind(scheme, rest),
        "github:" | "k8s://" => publish_kind(scheme, rest),
        _ => cloud_kind(scheme, rest, fragment),
    }
}

fn nonempty(parts: &[&str]) -> bool {
    parts.iter().all(|part| is_name(part))
}

fn aws_kind(scheme: &str, rest: &str) -> std::result::Result<StoreKind, String> {
    match scheme {
        "aws-sm://" => {
            let (name, per_key) = match rest.strip_suffix("/*") {
                Some(prefix) => (prefix, true),
                None => (rest, false),
            };
            if name.is_empty() || !nonempty(&name.split('/').collect::<Vec<_>>()) {
                return Err("expected aws-sm://NAME or aws-sm://PREFIX/*".into());
            }
            Ok(StoreKind::AwsSecretsManager {
                name: name.to_owned(),
                per_key,
            })
        }
        "aws-ssm://" => {
            let inner = rest.strip_prefix('/').unwrap_or_default();
            let trimmed = inner.strip_suffix('/').unwrap_or(inner);
            if !rest.starts_with('/')
                || trimmed.is_empty()
                || !nonempty(&trimmed.split('/').collect::<Vec<_>>())
            {
                return Err(
                    "expected aws-ssm:///PATH (three slashes: the path starts with /)".into(),
                );
            }
            Ok(StoreKind::AwsSsm {
                path: rest.to_owned(),
            })
        }
        _ => Err(format!("{scheme} is not an AWS store")),
    }
}

fn cloud_kind(
    scheme: &str,
    rest: &str,
    fragment: Option<&str>,
) -> std::result::Result<StoreKind, String> {
    let parts: Vec<&str> = rest.split('/').collect();
    match scheme {
        "gcp-sm://" => match parts.as_slice() {
            ["projects", project, "secrets", secret] if nonempty(&[project, secret]) => {
                Ok(StoreKind::GcpSecretManager {
                    project: (*project).to_owned(),
                    secret: (*secret).to_owned(),
                })
            }
            _ => Err("expected gcp-sm://projects/PROJECT/secrets/SECRET".into()),
        },
        "azure-kv://" => match parts.as_slice() {
            [vault, name] if nonempty(&parts) => Ok(StoreKind::AzureKeyVault {
                vault: (*vault).to_owned(),
                name: (*name).to_owned(),
            }),
            _ => Err("expected azure-kv://VAULT/NAME".into()),
        },
        _ => match parts.as_slice() {
            [mount, path @ ..] if !path.is_empty() && nonempty(&parts) => Ok(StoreKind::Vault {
                mount: (*mount).to_owned(),
                path: path.join("/"),
                field: match fragment {
                    Some(field) if is_name(field) => Some(field.to_owned()),
                    Some(_) => return Err("the #field must be a name".into()),
                    None => None,
                },
            }),
            _ => Err("expected vault://MOUNT/PATH (e.g. vault://secret/app/production)".into()),
        },
    }
}

/// The kinds only `publish` writes to.
fn publish_kind(scheme: &str, rest: &str) -> std::result::Result<StoreKind, String> {
    let parts: Vec<&str> = rest.split('/').collect();
    match scheme {
        "github:" => {
            let (repository, environment) = match rest.split_once('@') {
                Some((repository, environment)) if is_name(environment) => {
                    (repository, Some(environment.to_owned()))
                }
                Some(_) => return Err("the @environment must be a name".into()),
                None => (rest, None),
            };
            match repository.split('/').collect::<Vec<_>>().as_slice() {
                [owner, repo] if nonempty(&[owner, repo]) => Ok(StoreKind::GitHub {
                    owner: (*owner).to_owned(),
                    repo: (*repo).to_owned(),
                    environment,
                }),
                _ => Err("expected github:OWNER/REPO or github:OWNER/REPO@ENVIRONMENT".into()),
            }
        }
        _ => match parts.as_slice() {
            [namespace, name] if nonempty(&parts) => Ok(StoreKind::Kubernetes {
                namespace: (*namespace).to_owned(),
                name: (*name).to_owned(),
            }),
            _ => Err("expected k8s://NAMESPACE/NAME".into()),
        },
    }
}

/// Whether `url` is http(s) to this machine.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// Letters, digits and `-_.+=@`: what every store allows in a name part, and nothing that
/// changes a request's meaning (`/`, `?`, `#`, `%`, spaces).
fn is_name(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+=@".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(text: &str) -> StoreKind {
        StoreUrl::parse(text).unwrap().kind
    }

    #[test]
    fn every_kind_parses() {
        assert_eq!(
            kind_of("aws-sm://ci/app"),
            StoreKind::AwsSecretsManager {
                name: "ci/app".into(),
                per_key: false
            }
        );
        assert_eq!(
            kind_of("aws-sm://app/production/*"),
            StoreKind::AwsSecretsManager {
                name: "app/production".into(),
                per_key: true
            }
        );
        assert_eq!(
            kind_of("aws-ssm:///app/prod/"),
            StoreKind::AwsSsm {
                path: "/app/prod/".into()
            }
        );
        assert_eq!(
            kind_of("gcp-sm://projects/acme/secrets/ci-key"),
            StoreKind::GcpSecretManager {
                project: "acme".into(),
                secret: "ci-key".into()
            }
        );
        assert_eq!(
            kind_of("azure-kv://acme-vault/ci-key"),
            StoreKind::AzureKeyVault {
                vault: "acme-vault".into(),
                name: "ci-key".into()
            }
        );
        assert_eq!(
            kind_of("vault://secret/ci/app#identity"),
            StoreKind::Vault {
                mount: "secret".into(),
                path: "ci/app".into(),
                field: Some("identity".into())
            }
        );
        assert_eq!(
            kind_of("github:acme/app@production"),
            StoreKind::GitHub {
                owner: "acme".into(),
                repo: "app".into(),
                environment: Some("production".into())
            }
        );
        assert_eq!(
            kind_of("k8s://default/app-env"),
            StoreKind::Kubernetes {
                namespace: "default".into(),
                name: "app-env".into()
            }
        );
        let url =
            StoreUrl::parse("aws-sm://x?region=eu-west-1&endpoint=http://127.0.0.1:9/").unwrap();
        assert_eq!(url.region.as_deref(), Some("eu-west-1"));
        assert_eq!(url.endpoint.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn malformed_urls_are_refused_with_the_form_expected() {
        for (text, says) in [
            ("aws-sm://", "aws-sm://NAME"),
            ("aws-ssm://app/x", "three slashes"),
            ("aws-ssm:///", "three slashes"),
            ("gcp-sm://acme/ci", "projects/PROJECT"),
            ("azure-kv://vault", "VAULT/NAME"),
            ("azure-kv://vault/a/b", "VAULT/NAME"),
            ("vault://secret", "MOUNT/PATH"),
            ("vault://secret/../x", "MOUNT/PATH"),
            ("github:acme", "OWNER/REPO"),
            ("k8s://ns", "NAMESPACE/NAME"),
            ("aws-sm://x?token=abc", "unknown option"),
            ("aws-sm://x?endpoint=http://u:p@h", "credentials"),
            (
                "aws-sm://x?endpoint=https://evil.example",
                "on this machine",
            ),
            ("gcp-sm://projects/a/secrets/b?region=x", "region"),
            ("aws-sm://x#field", "#field"),
            ("s3://bucket", "unknown kind"),
        ] {
            let error = StoreUrl::parse(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains(text), "{text}: {error}");
        }
        assert!(StoreUrl::looks_like("aws-sm://x") && !StoreUrl::looks_like("/home/x/id.txt"));
    }
}
