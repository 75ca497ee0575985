//! GitHub Actions secrets, of a repository or of one of its environments, over GitHub's
//! documented REST API (version 2022-11-28): the public key secrets are sealed to, the list
//! of secret names (values can never be read back), create-or-update and delete.
//!
//! The token is `GH_TOKEN`, else `GITHUB_TOKEN`, else the `gh` CLI's (`gh auth token`); the
//! API is `GITHUB_API_URL` (Actions runners set it; GitHub Enterprise Server's differs),
//! else `https://api.github.com`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use serde_json::json;
use zeroize::Zeroizing;

use super::StoreFailure;
use super::http::{Reply, send};
use crate::env_vars::{self, EnvVars};

const DEFAULT_API: &str = "https://api.github.com";
/// The most secrets a page of the list holds; GitHub's maximum.
const PAGE: usize = 100;

/// Whose secrets: a repository's, or one of its Actions environments'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub owner: String,
    pub repo: String,
    pub environment: Option<String>,
}

impl Scope {
    fn path(&self) -> String {
        let (owner, repo) = (&self.owner, &self.repo);
        match &self.environment {
            Some(environment) => {
                format!("/repos/{owner}/{repo}/environments/{environment}/secrets")
            }
            None => format!("/repos/{owner}/{repo}/actions/secrets"),
        }
    }

    /// `OWNER/REPO` or `OWNER/REPO@ENVIRONMENT`, as the target URL writes it.
    pub fn label(&self) -> String {
        match &self.environment {
            Some(environment) => format!("{}/{}@{environment}", self.owner, self.repo),
            None => format!("{}/{}", self.owner, self.repo),
        }
    }
}

/// The key a scope's secrets are sealed to, and its id, which each write names.
pub struct PublicKey {
    pub key_id: String,
    pub key: Vec<u8>,
}

/// A client of one GitHub API with one token. Holds the token: no `Debug`.
pub struct GitHubClient {
    api: String,
    token: Zeroizing<String>,
}

impl GitHubClient {
    /// `endpoint` is the URL's `?endpoint=` (loopback only), before `GITHUB_API_URL`.
    pub fn new(endpoint: Option<&str>) -> Result<Self, StoreFailure> {
        let api = endpoint
            .map(str::to_owned)
            .or_else(|| env_vars::var(EnvVars::GITHUB_API_URL))
            .unwrap_or_else(|| DEFAULT_API.to_owned());
        let api = api.trim_end_matches('/').to_owned();
        let token = match env_vars::var(EnvVars::GH_TOKEN)
            .or_else(|| env_vars::var(EnvVars::GITHUB_TOKEN))
        {
            Some(token) => Zeroizing::new(token),
            None => gh_cli_token(&api)?,
        };
        Ok(Self { api, token })
    }

    fn request(&self, method: &str, path: &str, body: Option<&str>) -> Result<Reply, StoreFailure> {
        let headers = [
            ("authorization", format!("Bearer {}", self.token.as_str())),
            ("accept", "application/vnd.github+json".to_owned()),
            ("x-github-api-version", "2022-11-28".to_owned()),
            ("content-type", "application/json".to_owned()),
        ];
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let url = format!("{}{path}", self.api);
        send(method, &url, &headers, body.map(str::as_bytes))
    }

    /// The scope's public key.
    pub fn public_key(&self, scope: &Scope) -> Result<PublicKey, StoreFailure> {
        let reply = self.request("GET", &format!("{}/public-key", scope.path()), None)?;
        if !reply.is_success() {
            return Err(failure(&reply, scope, None));
        }
        let json = reply.json()?;
        let (Some(key_id), Some(key)) = (json["key_id"].as_str(), json["key"].as_str()) else {
            return Err(StoreFailure::BadResponse(
                "a public key without key_id or key".into(),
            ));
        };
        let key = STANDARD
            .decode(key)
            .map_err(|_| StoreFailure::BadResponse("the public key is not base64".into()))?;
        Ok(PublicKey {
            key_id: key_id.to_owned(),
            key,
        })
    }

    /// Every secret's name with when it was last updated, through every page.
    pub fn list(&self, scope: &Scope) -> Result<IndexMap<String, String>, StoreFailure> {
        let mut secrets = IndexMap::new();
        for page in 1.. {
            let path = format!("{}?per_page={PAGE}&page={page}", scope.path());
            let reply = self.request("GET", &path, None)?;
            if !reply.is_success() {
                return Err(failure(&reply, scope, None));
            }
            let json = reply.json()?;
            let listed = json["secrets"].as_array().cloned().unwrap_or_default();
            for secret in &listed {
                let (Some(name), Some(updated_at)) =
                    (secret["name"].as_str(), secret["updated_at"].as_str())
                else {
                    return Err(StoreFailure::BadResponse(
                        "a secret without name or updated_at".into(),
                    ));
                };
                // A name goes into the path of a later DELETE: only GitHub's own kind.
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(StoreFailure::BadResponse(format!(
                        "a secret named {:?}, which GitHub does not allow",
                        name.chars().take(100).collect::<String>()
                    )));
                }
                secrets.insert(name.to_owned(), updated_at.to_owned());
            }
            let total = json["total_count"].as_u64().unwrap_or_default() as usize;
            if listed.len() < PAGE || secrets.len() >= total {
                break;
            }
        }
        Ok(secrets)
    }

    /// Creates or updates secret `name` with a value already sealed to `key`.
    pub fn put(
        &self,
        scope: &Scope,
        name: &str,
        sealed: &[u8],
        key: &PublicKey,
    ) -> Result<(), StoreFailure> {
        let body = json!({ "encrypted_value": STANDARD.encode(sealed), "key_id": key.key_id });
        let path = format!("{}/{name}", scope.path());
        let reply = self.request("PUT", &path, Some(&body.to_string()))?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(failure(&reply, scope, Some(name)))
        }
    }

    pub fn delete(&self, scope: &Scope, name: &str) -> Result<(), StoreFailure> {
        let reply = self.request("DELETE", &format!("{}/{name}", scope.path()), None)?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(failure(&reply, scope, Some(name)))
        }
    }
}

/// GitHub's statuses in words a user can act on; `name` is the secret a write concerned.
fn failure(reply: &Reply, scope: &Scope, name: Option<&str>) -> StoreFailure {
    let says = match reply.failure() {
        StoreFailure::Denied { message, .. } | StoreFailure::Refused { message, .. } => message,
        other => other.to_string(),
    };
    let secret = name
        .map(|name| format!("secret {name}: "))
        .unwrap_or_default();
    let (status, label) = (reply.status, scope.label());
    let message = match status {
        401 => format!(
            "GitHub refused the token ({says}): set GH_TOKEN or GITHUB_TOKEN to a valid one, \
             or run `gh auth login`"
        ),
        403 => format!(
            "{secret}the token may not manage Actions secrets of {label} ({says}): a \
             fine-grained token needs the repository permission \"Secrets\" (or \
             \"Environments\" for an environment) with write access; a classic one `repo`"
        ),
        404 => format!(
            "{secret}no repository or environment {label} that this token can see ({says}); \
             GitHub answers 404 also when the token may not read the repository"
        ),
        422 => format!("{secret}GitHub refused the request ({says})"),
        _ => format!("{secret}{says}"),
    };
    match status {
        401 | 403 => StoreFailure::Denied { status, message },
        _ => StoreFailure::Refused { status, message },
    }
}

/// The `gh` CLI's token for the API's host, when `gh` is installed and logged in.
fn gh_cli_token(api: &str) -> Result<Zeroizing<String>, StoreFailure> {
    let mut command = std::process::Command::new("gh");
    command.args(["auth", "token"]);
    if api != DEFAULT_API {
        let host = api.split("://").nth(1).unwrap_or(api).split('/').next();
        command.args(["--hostname", host.unwrap_or_default()]);
    }
    let output = command
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|_| {
            StoreFailure::NoCredentials(
                "neither GH_TOKEN nor GITHUB_TOKEN is set, and there is no `gh` CLI to ask".into(),
            )
        })?;
    let token = Zeroizing::new(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    if !output.status.success() || token.is_empty() {
        return Err(StoreFailure::NoCredentials(
            "neither GH_TOKEN nor GITHUB_TOKEN is set, and `gh auth token` gave none: run \
             `gh auth login`"
                .into(),
        ));
    }
    Ok(token)
}
