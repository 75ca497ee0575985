//! Google Cloud Secret Manager over its REST API (v1): `versions/latest:access` to read,
//! `:addVersion` to write, creating the secret (automatic replication) on first write.
//!
//! The bearer token is `GOOGLE_OAUTH_ACCESS_TOKEN` when set (what `gcloud auth
//! print-access-token` and GitHub's `google-github-actions/auth` hand out), else Application
//! Default Credentials through `object_store`'s GCP provider (a service account key file, the
//! gcloud user login, or the metadata server), scoped to `cloud-platform`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use object_store::gcp::GoogleCloudStorageBuilder;
use serde_json::json;
use zeroize::Zeroizing;

use super::StoreFailure;
use super::http::{Reply, send};
use crate::env_vars::{self, EnvVars};

const BASE: &str = "https://secretmanager.googleapis.com";

pub struct GcpClient {
    base: String,
    token: Zeroizing<String>,
}

impl GcpClient {
    pub fn new(endpoint: Option<&str>) -> Result<Self, StoreFailure> {
        let token = match env_vars::var(EnvVars::GOOGLE_OAUTH_ACCESS_TOKEN) {
            Some(token) => Zeroizing::new(token),
            None => default_credentials()?,
        };
        Ok(Self {
            base: endpoint.unwrap_or(BASE).to_owned(),
            token,
        })
    }

    fn request(&self, method: &str, path: &str, body: Option<&str>) -> Result<Reply, StoreFailure> {
        let headers = [
            (
                "authorization".to_owned(),
                format!("Bearer {}", self.token.as_str()),
            ),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        send(
            method,
            &format!("{}/v1/{path}", self.base),
            &headers,
            body.map(str::as_bytes),
        )
    }

    /// The latest version's payload, which must be UTF-8.
    pub fn get(&self, project: &str, secret: &str) -> Result<Zeroizing<String>, StoreFailure> {
        let path = format!("projects/{project}/secrets/{secret}/versions/latest:access");
        let reply = self.request("GET", &path, None)?;
        if !reply.is_success() {
            return Err(reply.failure());
        }
        let encoded = super::aws::string_at(&reply, "/payload/data")?;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(encoded.as_bytes())
                .map_err(|_| StoreFailure::BadResponse("payload.data is not base64".into()))?,
        );
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| StoreFailure::BadResponse("the payload is not UTF-8".into()))
    }

    /// Adds a version holding `value`, creating the secret first when there is none.
    pub fn put(&self, project: &str, secret: &str, value: &str) -> Result<(), StoreFailure> {
        let body =
            Zeroizing::new(json!({ "payload": { "data": STANDARD.encode(value) } }).to_string());
        let add = format!("projects/{project}/secrets/{secret}:addVersion");
        let reply = self.request("POST", &add, Some(&body))?;
        if reply.is_success() {
            return Ok(());
        }
        if reply.status != 404 {
            return Err(reply.failure());
        }
        let create = format!("projects/{project}/secrets?secretId={secret}");
        let created = self.request(
            "POST",
            &create,
            Some(&json!({ "replication": { "automatic": {} } }).to_string()),
        )?;
        if !created.is_success() {
            return Err(created.failure());
        }
        let reply = self.request("POST", &add, Some(&body))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.failure())
        }
    }
}

fn default_credentials() -> Result<Zeroizing<String>, StoreFailure> {
    let no_token = |reason: String| StoreFailure::NoCredentials(super::short(&reason));
    crate::cloud_tls::use_ring();
    let store = GoogleCloudStorageBuilder::from_env()
        .with_bucket_name("envsync-credentials")
        .build()
        .map_err(|error| no_token(error.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| no_token(error.to_string()))?;
    let credential = runtime
        .block_on(store.credentials().get_credential())
        .map_err(|error| no_token(error.to_string()))?;
    Ok(Zeroizing::new(credential.bearer.clone()))
}
