//! Cloud secret stores: AWS Secrets Manager and SSM Parameter Store, Google Cloud Secret
//! Manager, Azure Key Vault and HashiCorp Vault KV v2; and, for publishing only, GitHub
//! Actions secrets and Kubernetes Secrets. One URL parser ([`StoreUrl`]) and one client per
//! store, shared by the identities kept in a store (`ENVSYNC_IDENTITY=aws-sm://…`, `envsync
//! ci add --store`) and by publishing environments to them.
//!
//! Each store uses its platform's standard credentials; none is ever read from a URL or
//! from `envsync.toml`. Values fetched stay in memory (`Zeroizing`) and are never written
//! to disk by this module.

pub(crate) mod aws;
pub(crate) mod azure;
pub(crate) mod gcp;
pub(crate) mod github;
mod http;
mod kubernetes;
pub mod publish;
mod url;
pub(crate) mod vault;

use std::fmt;

use zeroize::Zeroizing;

pub use url::{StoreKind, StoreUrl, is_loopback_url};

use crate::error::{ClientError, Result};

/// Why a store call failed. Messages hold the provider's words about the failure, never a
/// value or a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreFailure {
    /// No such secret (or parameter, or version).
    NotFound,
    /// The credentials were refused, or do not allow this call.
    Denied { status: u16, message: String },
    /// No credentials could be found or obtained.
    NoCredentials(String),
    /// The store could not be reached.
    Unreachable(String),
    /// The store refused the call for another reason.
    Refused { status: u16, message: String },
    /// The store answered something that is not its documented reply.
    BadResponse(String),
}

impl fmt::Display for StoreFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => formatter.write_str("no such secret"),
            Self::Denied { status, message } => {
                write!(formatter, "access denied (HTTP {status}): {message}")
            }
            Self::NoCredentials(reason) => write!(formatter, "no credentials: {reason}"),
            Self::Unreachable(reason) => write!(formatter, "unreachable: {reason}"),
            Self::Refused { status, message } => write!(formatter, "HTTP {status}: {message}"),
            Self::BadResponse(reason) => write!(formatter, "unexpected reply: {reason}"),
        }
    }
}

/// The first line of a long error, shortened: dependency errors can run to many lines.
pub(crate) fn short(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// The field of a Vault secret an identity is kept in unless the URL's `#field` says.
pub const IDENTITY_FIELD: &str = "identity";

/// Reads the one secret `url` names (an identity), into memory only.
pub fn fetch(url: &StoreUrl) -> Result<Zeroizing<String>> {
    let failed = |failure| ClientError::Store {
        url: url.to_string(),
        failure,
    };
    one_secret(url)?;
    let (endpoint, region) = (url.endpoint.as_deref(), url.region.as_deref());
    match &url.kind {
        StoreKind::AwsSecretsManager { name, .. } => {
            let client = aws::AwsClient::new(aws::Service::SecretsManager, endpoint, region);
            client.and_then(|client| aws::get_secret(&client, name))
        }
        StoreKind::AwsSsm { path } => {
            let client = aws::AwsClient::new(aws::Service::Ssm, endpoint, region);
            client.and_then(|client| aws::get_parameter(&client, path))
        }
        StoreKind::GcpSecretManager { project, secret } => {
            gcp::GcpClient::new(endpoint).and_then(|client| client.get(project, secret))
        }
        StoreKind::AzureKeyVault { vault, name } => {
            azure::AzureClient::new(vault, endpoint).and_then(|client| client.get(name))
        }
        StoreKind::Vault { mount, path, field } => {
            let field = field.as_deref().unwrap_or(IDENTITY_FIELD);
            vault::VaultClient::new(endpoint)
                .and_then(|client| client.read(mount, path))
                .and_then(|kv| {
                    kv.and_then(|kv| kv.fields.into_iter().find(|(key, _)| key == field))
                        .map(|(_, value)| value)
                        .ok_or(StoreFailure::NotFound)
                })
        }
        StoreKind::GitHub { .. } | StoreKind::Kubernetes { .. } => return Err(not_one(url)),
    }
    .map_err(failed)
}

/// Writes `value` as the one secret `url` names (a new version where the store keeps them).
pub fn put(url: &StoreUrl, value: &str) -> Result<()> {
    let failed = |failure| ClientError::Store {
        url: url.to_string(),
        failure,
    };
    one_secret(url)?;
    let (endpoint, region) = (url.endpoint.as_deref(), url.region.as_deref());
    match &url.kind {
        StoreKind::AwsSecretsManager { name, .. } => {
            let client = aws::AwsClient::new(aws::Service::SecretsManager, endpoint, region);
            client.and_then(|client| aws::put_secret(&client, name, value))
        }
        StoreKind::AwsSsm { path } => {
            let client = aws::AwsClient::new(aws::Service::Ssm, endpoint, region);
            client.and_then(|client| aws::put_parameter(&client, path, value))
        }
        StoreKind::GcpSecretManager { project, secret } => {
            gcp::GcpClient::new(endpoint).and_then(|client| client.put(project, secret, value))
        }
        StoreKind::AzureKeyVault { vault, name } => {
            azure::AzureClient::new(vault, endpoint).and_then(|client| client.put(name, value))
        }
        StoreKind::Vault { mount, path, field } => {
            let field = field.as_deref().unwrap_or(IDENTITY_FIELD);
            put_vault_field(endpoint, mount, path, field, value)
        }
        StoreKind::GitHub { .. } | StoreKind::Kubernetes { .. } => return Err(not_one(url)),
    }
    .map_err(failed)
}

/// [`put`] for a secret just read as absent: Secrets Manager then creates it in one
/// request rather than first trying an update; elsewhere it is [`put`].
pub fn put_new(url: &StoreUrl, value: &str) -> Result<()> {
    let StoreKind::AwsSecretsManager { name, .. } = &url.kind else {
        return put(url, value);
    };
    one_secret(url)?;
    let (endpoint, region) = (url.endpoint.as_deref(), url.region.as_deref());
    aws::AwsClient::new(aws::Service::SecretsManager, endpoint, region)
        .and_then(|client| aws::create_secret(&client, name, value))
        .map_err(|failure| ClientError::Store {
            url: url.to_string(),
            failure,
        })
}

/// Sets one field of a Vault secret, keeping its other fields, checked-and-set.
fn put_vault_field(
    endpoint: Option<&str>,
    mount: &str,
    path: &str,
    field: &str,
    value: &str,
) -> std::result::Result<(), StoreFailure> {
    let client = vault::VaultClient::new(endpoint)?;
    let (mut fields, version) = match client.read(mount, path)? {
        Some(kv) => (kv.fields, kv.version),
        None => (Vec::new(), 0),
    };
    fields.retain(|(key, _)| key != field);
    fields.push((field.to_owned(), Zeroizing::new(value.to_owned())));
    client.write(mount, path, &fields, version)
}

fn one_secret(url: &StoreUrl) -> Result<()> {
    if url.kind.holds_one_secret() {
        return Ok(());
    }
    Err(not_one(url))
}

fn not_one(url: &StoreUrl) -> ClientError {
    ClientError::Input(format!(
        "{url} is not one secret: an identity is kept in aws-sm://NAME, aws-ssm:///PATH, \
         gcp-sm://…, azure-kv://… or vault://…"
    ))
}
