//! HashiCorp Vault's KV secrets engine, version 2, over its HTTP API: `GET` and `POST
//! /v1/MOUNT/data/PATH` with `X-Vault-Token`, writes checked-and-set against the version read
//! so that a concurrent writer is never overwritten unseen.
//!
//! The address is `VAULT_ADDR`; the token `VAULT_TOKEN`, else the vault CLI's token file
//! (`~/.vault-token`); `VAULT_NAMESPACE` is sent when set (Vault Enterprise, HCP).

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::StoreFailure;
use super::http::{Reply, send};
use crate::env_vars::{self, EnvVars};

pub struct VaultClient {
    address: String,
    token: Zeroizing<String>,
    namespace: Option<String>,
}

/// A KV v2 secret as read: its fields and the version they are, for the next write's `cas`.
pub struct Kv {
    pub fields: Vec<(String, Zeroizing<String>)>,
    pub version: u64,
}

impl VaultClient {
    pub fn new(endpoint: Option<&str>) -> Result<Self, StoreFailure> {
        let address = endpoint
            .map(str::to_owned)
            .or_else(|| env_vars::var(EnvVars::VAULT_ADDR))
            .ok_or_else(|| StoreFailure::NoCredentials("VAULT_ADDR is not set".into()))?;
        let token = match env_vars::var(EnvVars::VAULT_TOKEN) {
            Some(token) => Zeroizing::new(token),
            None => token_file()?,
        };
        Ok(Self {
            address: address.trim_end_matches('/').to_owned(),
            token,
            namespace: env_vars::var(EnvVars::VAULT_NAMESPACE),
        })
    }

    fn request(&self, method: &str, url: &str, body: Option<&str>) -> Result<Reply, StoreFailure> {
        let mut headers = vec![
            ("x-vault-token".to_owned(), self.token.to_string()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        if let Some(namespace) = &self.namespace {
            headers.push(("x-vault-namespace".to_owned(), namespace.clone()));
        }
        send(method, url, &headers, body.map(str::as_bytes))
    }

    fn data_url(&self, mount: &str, path: &str) -> String {
        format!("{}/v1/{mount}/data/{path}", self.address)
    }

    /// The secret's fields; `None` when there is no such secret (or it was deleted).
    pub fn read(&self, mount: &str, path: &str) -> Result<Option<Kv>, StoreFailure> {
        let reply = self.request("GET", &self.data_url(mount, path), None)?;
        if reply.status == 404 {
            return Ok(None);
        }
        if !reply.is_success() {
            return Err(reply.failure());
        }
        let json = reply.json()?;
        let version = json
            .pointer("/data/metadata/version")
            .and_then(Value::as_u64)
            .ok_or_else(|| StoreFailure::BadResponse("no data.metadata.version".into()))?;
        let Some(Value::Object(data)) = json.pointer("/data/data") else {
            return Err(StoreFailure::BadResponse("no data.data object".into()));
        };
        let fields = data
            .iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.clone(), Zeroizing::new(text))
            })
            .collect();
        Ok(Some(Kv { fields, version }))
    }

    /// Writes `fields` as the secret's next version, only if it is still at `version`
    /// (0: only if there is none).
    pub fn write(
        &self,
        mount: &str,
        path: &str,
        fields: &[(String, Zeroizing<String>)],
        version: u64,
    ) -> Result<(), StoreFailure> {
        let data: Map<String, Value> = fields
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.to_string())))
            .collect();
        let body =
            Zeroizing::new(json!({ "options": { "cas": version }, "data": data }).to_string());
        let reply = self.request("POST", &self.data_url(mount, path), Some(&body))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.failure())
        }
    }
}

fn token_file() -> Result<Zeroizing<String>, StoreFailure> {
    let missing = || {
        StoreFailure::NoCredentials("VAULT_TOKEN is not set and ~/.vault-token is missing".into())
    };
    let home = env_vars::var_os(EnvVars::HOME).ok_or_else(missing)?;
    let text = std::fs::read_to_string(std::path::Path::new(&home).join(".vault-token"))
        .map(Zeroizing::new)
        .map_err(|_| missing())?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}
