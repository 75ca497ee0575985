//! AWS Secrets Manager and SSM Parameter Store over their JSON APIs, each request signed
//! with SigV4 by AWS's own `aws-sigv4` crate (the whole SDK would add an async stack and
//! minutes of build for four calls).
//!
//! Credentials come from the chain `object_store` already implements for S3 remotes
//! (environment, web identity — OIDC in CI —, ECS and EC2 metadata), with the AWS CLI's
//! profile files before the metadata services, as bucket remotes do.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use object_store::aws::AmazonS3Builder;
use serde_json::json;
use zeroize::Zeroizing;

use super::StoreFailure;
use super::http::{Reply, send};
use crate::env_vars::{self, EnvVars};
use crate::remote::bucket::profile::ProfileSource;

/// Which of the two services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    SecretsManager,
    Ssm,
}

impl Service {
    fn signing_name(self) -> &'static str {
        match self {
            Self::SecretsManager => "secretsmanager",
            Self::Ssm => "ssm",
        }
    }

    fn target_prefix(self) -> &'static str {
        match self {
            Self::SecretsManager => "secretsmanager",
            Self::Ssm => "AmazonSSM",
        }
    }

    fn endpoint_variable(self) -> &'static str {
        match self {
            Self::SecretsManager => EnvVars::AWS_ENDPOINT_URL_SECRETS_MANAGER,
            Self::Ssm => EnvVars::AWS_ENDPOINT_URL_SSM,
        }
    }
}

/// Static credentials for one command. Holds a secret key: no `Debug`.
struct Keys {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

/// A signed client of one service in one region.
pub struct AwsClient {
    service: Service,
    region: String,
    endpoint: String,
    keys: Keys,
}

impl AwsClient {
    /// Resolves region, endpoint and credentials; `endpoint` and `region` are the URL's.
    pub fn new(
        service: Service,
        endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<Self, StoreFailure> {
        let profile = ProfileSource::from_env()
            .load()
            .map_err(|error| StoreFailure::NoCredentials(error.to_string()))?;
        let region = region
            .map(str::to_owned)
            .or_else(|| env_vars::var(EnvVars::AWS_REGION))
            .or_else(|| env_vars::var(EnvVars::AWS_DEFAULT_REGION))
            .or(profile.region.clone())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| env_vars::var(service.endpoint_variable()))
            .or_else(|| env_vars::var(EnvVars::AWS_ENDPOINT_URL))
            .unwrap_or_else(|| {
                format!("https://{}.{region}.amazonaws.com", service.signing_name())
            });
        let keys = match (&profile.access_key_id, &profile.secret_access_key) {
            (Some(id), Some(secret)) if env_vars::var(EnvVars::AWS_ACCESS_KEY_ID).is_none() => {
                Keys {
                    access_key_id: id.clone(),
                    secret_access_key: secret.clone(),
                    session_token: profile.session_token.clone(),
                }
            }
            _ => chain_keys(&region)?,
        };
        Ok(Self {
            service,
            region,
            endpoint,
            keys,
        })
    }

    /// One call of the JSON protocol, e.g. `GetSecretValue`.
    pub fn call(&self, action: &str, body: &serde_json::Value) -> Result<Reply, StoreFailure> {
        let body = Zeroizing::new(body.to_string());
        let target = format!("{}.{action}", self.service.target_prefix());
        let url = format!("{}/", self.endpoint);
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        all.extend(self.signature(&url, &headers, body.as_bytes())?);
        send("POST", &url, &all, Some(body.as_bytes()))
    }

    fn signature(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, StoreFailure> {
        let identity = Credentials::new(
            self.keys.access_key_id.clone(),
            self.keys.secret_access_key.to_string(),
            self.keys
                .session_token
                .as_ref()
                .map(|token| token.to_string()),
            None,
            "envsync",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service.signing_name())
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|error| StoreFailure::NoCredentials(error.to_string()))?
            .into();
        let request = SignableRequest::new(
            "POST",
            url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|error| StoreFailure::BadResponse(format!("cannot sign: {error}")))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|error| StoreFailure::BadResponse(format!("cannot sign: {error}")))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect())
    }
}

/// The rest of the chain, through `object_store`'s S3 credential provider (it is the same
/// chain for every AWS service).
fn chain_keys(region: &str) -> Result<Keys, StoreFailure> {
    let no_keys = |reason: String| StoreFailure::NoCredentials(reason);
    crate::cloud_tls::use_ring();
    let store = AmazonS3Builder::from_env()
        .with_bucket_name("envsync-credentials")
        .with_region(region)
        .build()
        .map_err(|error| no_keys(error.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| no_keys(error.to_string()))?;
    let credential = runtime
        .block_on(store.credentials().get_credential())
        .map_err(|error| no_keys(super::short(&error.to_string())))?;
    Ok(Keys {
        access_key_id: credential.key_id.clone(),
        secret_access_key: Zeroizing::new(credential.secret_key.clone()),
        session_token: credential.token.clone().map(Zeroizing::new),
    })
}

/// The `__type` of an AWS JSON error (`ResourceNotFoundException`, `ParameterNotFound`).
pub fn error_type(reply: &Reply) -> String {
    reply
        .json()
        .ok()
        .and_then(|json| {
            json.get("__type")
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        })
        .map(|kind| kind.rsplit('#').next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// A failure reply as a `StoreFailure`: AWS says "not found" with HTTP 400.
pub fn failure(reply: &Reply) -> StoreFailure {
    match error_type(reply).as_str() {
        "ResourceNotFoundException" | "ParameterNotFound" => StoreFailure::NotFound,
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException" => StoreFailure::Denied {
            status: reply.status,
            message: reply.failure().to_string(),
        },
        _ => reply.failure(),
    }
}

/// Reads one Secrets Manager secret's string.
pub fn get_secret(client: &AwsClient, name: &str) -> Result<Zeroizing<String>, StoreFailure> {
    let reply = client.call("GetSecretValue", &json!({ "SecretId": name }))?;
    if !reply.is_success() {
        return Err(failure(&reply));
    }
    string_at(&reply, "/SecretString")
}

/// Adds a new version of the secret, creating it when there is none: updates (publish's
/// repeated case) take one request.
pub fn put_secret(client: &AwsClient, name: &str, value: &str) -> Result<(), StoreFailure> {
    let put = client.call(
        "PutSecretValue",
        &json!({ "SecretId": name, "SecretString": value }),
    )?;
    if put.is_success() {
        return Ok(());
    }
    if error_type(&put) != "ResourceNotFoundException" {
        return Err(failure(&put));
    }
    create_secret(client, name, value)
}

/// Creates the secret: one request where the caller has just read that it does not exist
/// (a first publish), instead of [`put_secret`]'s refused update first.
pub fn create_secret(client: &AwsClient, name: &str, value: &str) -> Result<(), StoreFailure> {
    let created = client.call(
        "CreateSecret",
        &json!({ "Name": name, "SecretString": value }),
    )?;
    if created.is_success() {
        Ok(())
    } else {
        Err(failure(&created))
    }
}

/// Reads one SecureString parameter, decrypted.
pub fn get_parameter(client: &AwsClient, path: &str) -> Result<Zeroizing<String>, StoreFailure> {
    let reply = client.call(
        "GetParameter",
        &json!({ "Name": path, "WithDecryption": true }),
    )?;
    if !reply.is_success() {
        return Err(failure(&reply));
    }
    string_at(&reply, "/Parameter/Value")
}

/// Writes one SecureString parameter, replacing its value.
pub fn put_parameter(client: &AwsClient, path: &str, value: &str) -> Result<(), StoreFailure> {
    let reply = client.call(
        "PutParameter",
        &json!({ "Name": path, "Value": value, "Type": "SecureString", "Overwrite": true }),
    )?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(failure(&reply))
    }
}

pub(super) fn string_at(reply: &Reply, pointer: &str) -> Result<Zeroizing<String>, StoreFailure> {
    let json = reply.json()?;
    json.pointer(pointer)
        .and_then(|value| value.as_str())
        .map(|text| Zeroizing::new(text.to_owned()))
        .ok_or_else(|| StoreFailure::BadResponse(format!("the reply has no {pointer}")))
}
