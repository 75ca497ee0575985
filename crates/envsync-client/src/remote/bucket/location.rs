//! `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX` and `az://CONTAINER/PREFIX` URLs, and the
//! store each one opens.
//!
//! The URL lives in the committed `envsync.toml`, so it may carry only settings a whole
//! team shares (`?endpoint=`, `?region=`, `?account=`), never credentials: those come from
//! each person's environment or AWS profile.

use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;
use object_store::{BackoffConfig, RetryConfig};

use super::profile::ProfileSource;
use crate::env_vars::EnvVars;
use crate::error::{ClientError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Service {
    S3,
    Google,
    Azure,
}

/// A parsed bucket URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Location {
    pub service: Service,
    pub bucket: String,
    pub prefix: Path,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// The URL without its query, for messages.
    pub display: String,
}

impl Location {
    pub fn parse(spec: &str) -> Result<Self> {
        let invalid =
            |why: &str| ClientError::Input(format!("envsync.toml: remote `{spec}`: {why}"));
        let (scheme, rest) = spec.split_once("://").ok_or_else(|| invalid("not a URL"))?;
        let service = match scheme {
            "s3" => Service::S3,
            "gs" => Service::Google,
            "az" => Service::Azure,
            _ => return Err(invalid("expected s3://, gs:// or az://")),
        };
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = address.split_once('/').unwrap_or((address, ""));
        if bucket.is_empty() || bucket.contains(['@', ':', ' ']) {
            return Err(invalid(
                "expected a bucket name after the scheme, e.g. s3://my-bucket/envsync",
            ));
        }
        let prefix = prefix.trim_matches('/');
        let prefix = Path::parse(prefix)
            .map_err(|_| invalid("the prefix must be plain path segments, e.g. team/envsync"))?;
        let mut location = Self {
            service,
            bucket: bucket.to_owned(),
            display: format!("{scheme}://{}", address.trim_end_matches('/')),
            prefix,
            endpoint: None,
            region: None,
            account: None,
        };
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match (key, service) {
                ("endpoint", Service::S3 | Service::Azure) => &mut location.endpoint,
                ("region", Service::S3) => &mut location.region,
                ("account", Service::Azure) => &mut location.account,
                _ => {
                    return Err(invalid(&format!(
                        "unknown option `{key}` (allowed: endpoint and region for s3://, endpoint and account for az://; credentials belong in the environment, not in envsync.toml)"
                    )));
                }
            };
            *slot = Some(value.to_owned());
        }
        if let Some(endpoint) = &location.endpoint
            && (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")
                || authority(endpoint).contains('@'))
        {
            return Err(invalid(
                "`endpoint` must be an http:// or https:// URL without credentials",
            ));
        }
        Ok(location)
    }

    /// Opens the store with the standard environment variables of its service, and for S3
    /// the AWS profile (`AWS_PROFILE`, `~/.aws/credentials`, `~/.aws/config`) when the
    /// environment has no keys. Settings in the URL win: they are this remote's own.
    pub fn open_store(&self) -> Result<(Arc<dyn ObjectStore>, Option<String>)> {
        crate::cloud_tls::use_ring();
        let built = match self.service {
            Service::S3 => return self.open_s3(),
            Service::Google => GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(&self.bucket)
                .with_retry(retry())
                .build()
                .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
            Service::Azure => {
                let mut builder = MicrosoftAzureBuilder::from_env()
                    .with_container_name(&self.bucket)
                    .with_retry(retry());
                if let Some(account) = &self.account {
                    builder = builder.with_account(account);
                }
                if let Some(endpoint) = &self.endpoint {
                    builder = builder
                        .with_endpoint(endpoint.clone())
                        .with_allow_http(is_loopback_http(endpoint));
                }
                builder
                    .build()
                    .map(|store| Arc::new(store) as Arc<dyn ObjectStore>)
            }
        };
        built
            .map(|store| (store, self.endpoint.clone()))
            .map_err(|error| self.configuration_error(&error))
    }

    /// Where envsync looked for S3 credentials, when it found none: a request the store then
    /// refuses is reported as missing credentials, not as a bucket policy that denies
    /// access. `None` for other services, and when keys or another source are configured.
    pub fn missing_credentials(&self) -> Option<String> {
        let sources = [
            EnvVars::AWS_ACCESS_KEY_ID,
            EnvVars::AWS_WEB_IDENTITY_TOKEN_FILE,
            EnvVars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
            EnvVars::AWS_CONTAINER_CREDENTIALS_FULL_URI,
        ];
        if self.service != Service::S3 || sources.iter().any(|name| env(name).is_some()) {
            return None;
        }
        let source = ProfileSource::from_env();
        let profile = source.load().ok()?;
        if profile.access_key_id.is_some() && profile.secret_access_key.is_some() {
            return None;
        }
        let files: Vec<String> = [&source.credentials_file, &source.config_file]
            .into_iter()
            .flatten()
            .map(|path| path.display().to_string())
            .collect();
        Some(format!(
            "the variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profile `{}` (AWS_PROFILE) in {}, and the instance metadata service",
            source.name,
            if files.is_empty() {
                "no profile files (HOME is unset)".to_owned()
            } else {
                files.join(" and ")
            }
        ))
    }

    fn open_s3(&self) -> Result<(Arc<dyn ObjectStore>, Option<String>)> {
        let profile = ProfileSource::from_env().load()?;
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_retry(retry());
        if env(EnvVars::AWS_ACCESS_KEY_ID).is_none()
            && let (Some(key), Some(secret)) = (&profile.access_key_id, &profile.secret_access_key)
        {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret.as_str());
            if let Some(token) = &profile.session_token {
                builder = builder.with_token(token.as_str());
            }
        }
        let region = self.region.clone().or_else(|| {
            env(EnvVars::AWS_REGION)
                .or_else(|| env(EnvVars::AWS_DEFAULT_REGION))
                .or(profile.region)
        });
        if let Some(region) = region {
            builder = builder.with_region(region);
        }
        let endpoint = self.endpoint.clone().or_else(|| {
            env(EnvVars::AWS_ENDPOINT_URL_S3)
                .or_else(|| env(EnvVars::AWS_ENDPOINT_URL))
                .or_else(|| env(EnvVars::AWS_ENDPOINT))
                .or(profile.endpoint_url)
        });
        if let Some(endpoint) = &endpoint {
            builder = builder.with_endpoint(endpoint);
            // Plain HTTP to this machine (a local MinIO or test server) needs no opt-in;
            // anywhere else it takes AWS_ALLOW_HTTP=true.
            if is_loopback_http(endpoint) {
                builder = builder.with_allow_http(true);
            }
        }
        let store = builder
            .build()
            .map_err(|error| self.configuration_error(&error))?;
        Ok((Arc::new(store), endpoint))
    }

    fn configuration_error(&self, error: &object_store::Error) -> ClientError {
        ClientError::Remote(format!(
            "bucket {}: cannot configure the store: {}",
            self.display,
            super::failure::short_cause(error)
        ))
    }
}

fn env(name: &str) -> Option<String> {
    crate::env_vars::var(name)
}

/// Few, quick retries: a person waits on every request, and an unreachable store should be
/// reported in a second or two, not after object_store's default three minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(20),
    }
}

fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or_default()
}

fn is_loopback_http(endpoint: &str) -> bool {
    endpoint.starts_with("http://") && crate::stores::is_loopback_url(endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_prefix_and_options() {
        let location = Location::parse(
            "s3://team-bucket/envsync/app/?endpoint=http://127.0.0.1:9000&region=eu-west-1",
        )
        .unwrap();
        assert_eq!(location.service, Service::S3);
        assert_eq!(location.bucket, "team-bucket");
        assert_eq!(location.prefix.as_ref(), "envsync/app");
        assert_eq!(location.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(location.region.as_deref(), Some("eu-west-1"));
        assert_eq!(location.display, "s3://team-bucket/envsync/app");
        let bare = Location::parse("gs://bucket").unwrap();
        assert_eq!((bare.service, bare.prefix.as_ref()), (Service::Google, ""));
        assert_eq!(
            Location::parse("az://c/p?account=acme")
                .unwrap()
                .account
                .as_deref(),
            Some("acme")
        );
    }

    #[test]
    fn refuses_credentials_and_unknown_options() {
        for spec in [
            "s3://bucket/p?secret_access_key=x",
            "s3://bucket/p?endpoint=http://user:pw@host:9000",
            "s3://key:secret@bucket/p",
            "s3:///p",
            "s3://bucket/a//b",
            "gs://bucket/p?region=x",
        ] {
            let error = Location::parse(spec).unwrap_err();
            assert!(matches!(error, ClientError::Input(_)), "{spec}: {error}");
        }
    }

    #[test]
    fn plain_http_is_allowed_only_to_this_machine() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(is_loopback_http("http://[::1]:9000"));
        assert!(!is_loopback_http("https://127.0.0.1:9000"));
        assert!(!is_loopback_http("http://minio.internal:9000"));
        assert!(!is_loopback_http("http://127.0.0.1.evil.example:9000"));
    }
}
