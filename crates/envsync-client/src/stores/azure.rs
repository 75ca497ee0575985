//! Azure Key Vault secrets over the REST API (`api-version=7.4`): `GET` and `PUT
//! /secrets/NAME`.
//!
//! The bearer token for `https://vault.azure.net` comes from the same sources, in the same
//! order, as Azure's own `EnvironmentCredential` and `WorkloadIdentityCredential`: a client
//! secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), then a federated
//! token file (`AZURE_FEDERATED_TOKEN_FILE`: workload identity, GitHub OIDC); else the
//! Azure CLI's login (`az account get-access-token`). These are OAuth token requests, not
//! signatures: nothing is signed here.

use serde_json::json;
use zeroize::Zeroizing;

use super::StoreFailure;
use super::http::{Reply, send};
use crate::env_vars::{self, EnvVars};

const API_VERSION: &str = "api-version=7.4";
const SCOPE: &str = "https://vault.azure.net/.default";

pub struct AzureClient {
    base: String,
    token: Zeroizing<String>,
}

impl AzureClient {
    pub fn new(vault: &str, endpoint: Option<&str>) -> Result<Self, StoreFailure> {
        Ok(Self {
            base: endpoint
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://{vault}.vault.azure.net")),
            token: token()?,
        })
    }

    fn request(&self, method: &str, name: &str, body: Option<&str>) -> Result<Reply, StoreFailure> {
        let headers = [
            (
                "authorization".to_owned(),
                format!("Bearer {}", self.token.as_str()),
            ),
            ("content-type".to_owned(), "application/json".to_owned()),
        ];
        let url = format!("{}/secrets/{name}?{API_VERSION}", self.base);
        send(method, &url, &headers, body.map(str::as_bytes))
    }

    pub fn get(&self, name: &str) -> Result<Zeroizing<String>, StoreFailure> {
        let reply = self.request("GET", name, None)?;
        if !reply.is_success() {
            return Err(reply.failure());
        }
        super::aws::string_at(&reply, "/value")
    }

    /// Sets the secret (a new version when it exists).
    pub fn put(&self, name: &str, value: &str) -> Result<(), StoreFailure> {
        let body = Zeroizing::new(json!({ "value": value }).to_string());
        let reply = self.request("PUT", name, Some(&body))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(reply.failure())
        }
    }
}

fn token() -> Result<Zeroizing<String>, StoreFailure> {
    let tenant = env_vars::var(EnvVars::AZURE_TENANT_ID);
    let client = env_vars::var(EnvVars::AZURE_CLIENT_ID);
    if let (Some(tenant), Some(client)) = (&tenant, &client) {
        if let Some(secret) = env_vars::var(EnvVars::AZURE_CLIENT_SECRET).map(Zeroizing::new) {
            return token_request(tenant, client, &[("client_secret", secret.as_str())]);
        }
        if let Some(path) = env_vars::var_os(EnvVars::AZURE_FEDERATED_TOKEN_FILE) {
            let assertion =
                std::fs::read_to_string(&path)
                    .map(Zeroizing::new)
                    .map_err(|error| {
                        StoreFailure::NoCredentials(format!("AZURE_FEDERATED_TOKEN_FILE: {error}"))
                    })?;
            return token_request(
                tenant,
                client,
                &[
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.trim()),
                ],
            );
        }
    }
    azure_cli_token()
}

/// The client-credentials grant of Microsoft's identity platform (v2.0 token endpoint).
fn token_request(
    tenant: &str,
    client: &str,
    proof: &[(&str, &str)],
) -> Result<Zeroizing<String>, StoreFailure> {
    let authority = env_vars::var(EnvVars::AZURE_AUTHORITY_HOST)
        .unwrap_or_else(|| "https://login.microsoftonline.com".to_owned());
    let url = format!(
        "{}/{tenant}/oauth2/v2.0/token",
        authority.trim_end_matches('/')
    );
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client),
        ("scope", SCOPE),
    ];
    form.extend_from_slice(proof);
    let body = Zeroizing::new(form_encode(&form));
    let headers = [(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let reply = send("POST", &url, &headers, Some(body.as_bytes()))?;
    if !reply.is_success() {
        return Err(StoreFailure::NoCredentials(format!(
            "the Microsoft token endpoint refused: {}",
            reply.failure()
        )));
    }
    super::aws::string_at(&reply, "/access_token")
}

fn azure_cli_token() -> Result<Zeroizing<String>, StoreFailure> {
    let output = std::process::Command::new("az")
        .args([
            "account",
            "get-access-token",
            "--resource",
            "https://vault.azure.net",
        ])
        .args(["--query", "accessToken", "--output", "tsv"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|_| {
            StoreFailure::NoCredentials(
                "no AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or \
                 AZURE_FEDERATED_TOKEN_FILE, and no `az` CLI to ask"
                    .into(),
            )
        })?;
    let token = Zeroizing::new(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    if !output.status.success() || token.is_empty() {
        return Err(StoreFailure::NoCredentials(
            "`az account get-access-token` failed: run `az login`".into(),
        ));
    }
    Ok(token)
}

/// `application/x-www-form-urlencoded`, with every byte outside the unreserved set escaped.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let escape = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (byte as char).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", escape(key), escape(value)))
        .collect::<Vec<_>>()
        .join("&")
}
