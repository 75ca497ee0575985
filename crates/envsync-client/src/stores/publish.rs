//! Publishing an environment's variables to a store, and the drift between them: keys the
//! store is missing, keys it has that the environment does not (extra), and keys whose
//! values differ (changed). Only what differs is written; extra keys are removed only with
//! `prune`.
//!
//! The targets, and what a publish that changes something writes:
//! - one JSON secret (`aws-sm://NAME`, `gcp-sm://…`, `azure-kv://…`): one write;
//! - a folder of SSM SecureStrings (`aws-ssm:///PATH/`): one write per differing key,
//!   deletions ten per request;
//! - one Secrets Manager secret per key (`aws-sm://PREFIX/*`, [`secret_per_key`]): one write
//!   per differing key;
//! - Vault KV v2 (`vault://…`): one checked-and-set write;
//! - GitHub Actions secrets (`github:…`, [`github`]): one write per differing secret; GitHub
//!   cannot return values, so drift is judged against this machine's record;
//! - a Kubernetes Secret (`k8s://NAMESPACE/NAME`, [`kubernetes`], through kubectl): one
//!   create or checked replace.

mod github;
mod kubernetes;
mod secret_per_key;

use envsync_crypto::KeyedDigest;
use indexmap::IndexMap;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::aws::{self, AwsClient, Service};
use super::{StoreFailure, StoreKind, StoreUrl};
use crate::error::{ClientError, Result};

pub use github::{PublishRecord, RecordedKey};

/// What differs between an environment and a target, by key name only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    pub missing: Vec<String>,
    pub changed: Vec<String>,
    pub extra: Vec<String>,
    /// Keys a target that cannot return values holds and this machine has no record of
    /// writing: they may differ. A publish rewrites them; `--check` does not count them.
    pub unverified: Vec<String>,
}

impl Drift {
    /// Whether publishing (with `prune`) would change anything.
    pub fn is_empty(&self, prune: bool) -> bool {
        self.missing.is_empty() && self.changed.is_empty() && (!prune || self.extra.is_empty())
    }

    fn between(
        wanted: &IndexMap<String, String>,
        held: &IndexMap<String, Zeroizing<String>>,
    ) -> Self {
        let mut drift = Drift::default();
        for (key, value) in wanted {
            match held.get(key) {
                None => drift.missing.push(key.clone()),
                Some(current) if current.as_str() != value => drift.changed.push(key.clone()),
                Some(_) => {}
            }
        }
        drift.extra = held
            .keys()
            .filter(|key| !wanted.contains_key(*key))
            .cloned()
            .collect();
        drift
    }
}

/// What a target whose values cannot be read back (GitHub) is compared with: this
/// machine's record of what it last wrote there, kept by the caller, and the key of the
/// record's digests. A publish that wrote leaves the new record here for the caller to save.
pub struct Memory<'a> {
    pub digests: &'a KeyedDigest,
    pub record: PublishRecord,
}

/// The file name of a target's record: a digest of its URL (which may hold `/`, `:`, `?`).
pub fn record_name(to: &str) -> String {
    let digest = envsync_core::hash::sha256_hex(to.as_bytes());
    format!("{}.json", &digest[..16])
}

/// What a publish did (or, with `write: false`, would do).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub drift: Drift,
    /// Requests that wrote or deleted something.
    pub writes: usize,
}

/// Compares `vars` with what `url` holds and, when `write`, makes it hold them.
pub fn publish(
    url: &StoreUrl,
    vars: &IndexMap<String, String>,
    write: bool,
    prune: bool,
    memory: &mut Memory<'_>,
) -> Result<Outcome> {
    let failed = |failure| ClientError::Store {
        url: url.to_string(),
        failure,
    };
    match &url.kind {
        StoreKind::AwsSsm { path } if path.ends_with('/') => {
            let client =
                AwsClient::new(Service::Ssm, url.endpoint.as_deref(), url.region.as_deref())
                    .map_err(failed)?;
            ssm_folder(&client, path, vars, write, prune).map_err(failed)
        }
        StoreKind::AwsSecretsManager {
            name,
            per_key: true,
        } => {
            let (endpoint, region) = (url.endpoint.as_deref(), url.region.as_deref());
            AwsClient::new(Service::SecretsManager, endpoint, region)
                .and_then(|client| secret_per_key::publish(&client, name, vars, write, prune))
                .map_err(failed)
        }
        StoreKind::Vault { field: None, .. } => vault(url, vars, write, prune),
        StoreKind::Kubernetes { namespace, name } => {
            kubernetes::publish(url, (namespace, name), vars, write, prune)
        }
        StoreKind::GitHub {
            owner,
            repo,
            environment,
        } => {
            let scope = super::github::Scope {
                owner: owner.clone(),
                repo: repo.clone(),
                environment: environment.clone(),
            };
            github::publish(url, &scope, vars, (write, prune), memory)
        }
        StoreKind::AwsSecretsManager { per_key: false, .. }
        | StoreKind::GcpSecretManager { .. }
        | StoreKind::AzureKeyVault { .. } => json_secret(url, vars, write, prune),
        _ => Err(ClientError::Input(format!(
            "{url} names one value (where an identity is kept), not a publish target: \
             aws-sm://NAME, aws-sm://PREFIX/*, aws-ssm:///PATH/ (a folder, ending in /), \
             gcp-sm://…, azure-kv://…, vault://MOUNT/PATH (no #field), github:OWNER/REPO, \
             k8s://NAMESPACE/NAME"
        ))),
    }
}

/// One secret holding a JSON object of every key.
fn json_secret(
    url: &StoreUrl,
    vars: &IndexMap<String, String>,
    write: bool,
    prune: bool,
) -> Result<Outcome> {
    let (held, absent) = match super::fetch(url) {
        Ok(text) => (parse_object(url, &text)?, false),
        Err(ClientError::Store {
            failure: StoreFailure::NotFound,
            ..
        }) => (IndexMap::new(), true),
        Err(error) => return Err(error),
    };
    let drift = Drift::between(vars, &held);
    let mut outcome = Outcome { drift, writes: 0 };
    if write && !outcome.drift.is_empty(prune) {
        let mut next: IndexMap<String, Value> = IndexMap::new();
        if !prune {
            for (key, value) in &held {
                next.insert(key.clone(), Value::String(value.to_string()));
            }
        }
        for (key, value) in vars {
            next.insert(key.clone(), Value::String(value.clone()));
        }
        let text = Zeroizing::new(serde_json::to_string(&next).unwrap_or_default());
        if absent {
            super::put_new(url, &text)?;
        } else {
            super::put(url, &text)?;
        }
        outcome.writes = 1;
    }
    Ok(outcome)
}

fn parse_object(url: &StoreUrl, text: &str) -> Result<IndexMap<String, Zeroizing<String>>> {
    let not_object = || {
        ClientError::Input(format!(
            "{url} holds something other than a JSON object of strings; publish writes one \
             there and will not overwrite it"
        ))
    };
    let value: Value = serde_json::from_str(text).map_err(|_| not_object())?;
    let object = value.as_object().ok_or_else(not_object)?;
    object
        .iter()
        .map(|(key, value)| {
            let text = value.as_str().ok_or_else(not_object)?;
            Ok((key.clone(), Zeroizing::new(text.to_owned())))
        })
        .collect()
}

/// One SecureString per key under `folder` (which ends in `/`).
fn ssm_folder(
    client: &AwsClient,
    folder: &str,
    vars: &IndexMap<String, String>,
    write: bool,
    prune: bool,
) -> std::result::Result<Outcome, StoreFailure> {
    let held = ssm_list(client, folder)?;
    let drift = Drift::between(vars, &held);
    let mut outcome = Outcome { drift, writes: 0 };
    if !write {
        return Ok(outcome);
    }
    for key in outcome.drift.missing.iter().chain(&outcome.drift.changed) {
        aws::put_parameter(client, &format!("{folder}{key}"), &vars[key])?;
        outcome.writes += 1;
    }
    if prune {
        for batch in outcome.drift.extra.chunks(10) {
            let names: Vec<String> = batch.iter().map(|key| format!("{folder}{key}")).collect();
            let reply = client.call("DeleteParameters", &json!({ "Names": names }))?;
            if !reply.is_success() {
                return Err(aws::failure(&reply));
            }
            outcome.writes += 1;
        }
    }
    Ok(outcome)
}

/// The parameters directly under `folder`, decrypted, through every page.
fn ssm_list(
    client: &AwsClient,
    folder: &str,
) -> std::result::Result<IndexMap<String, Zeroizing<String>>, StoreFailure> {
    let mut held = IndexMap::new();
    let mut next: Option<String> = None;
    loop {
        let mut body = json!({ "Path": folder, "Recursive": false, "WithDecryption": true });
        if let Some(token) = &next {
            body["NextToken"] = Value::String(token.clone());
        }
        let reply = client.call("GetParametersByPath", &body)?;
        if !reply.is_success() {
            return Err(aws::failure(&reply));
        }
        let json = reply.json()?;
        for parameter in json["Parameters"].as_array().into_iter().flatten() {
            let (Some(name), Some(value)) =
                (parameter["Name"].as_str(), parameter["Value"].as_str())
            else {
                return Err(StoreFailure::BadResponse(
                    "a parameter without Name or Value".into(),
                ));
            };
            let key = name.strip_prefix(folder).unwrap_or(name);
            held.insert(key.to_owned(), Zeroizing::new(value.to_owned()));
        }
        next = json["NextToken"].as_str().map(str::to_owned);
        if next.is_none() {
            return Ok(held);
        }
    }
}

/// The secret's fields are the keys; one write, checked-and-set.
fn vault(
    url: &StoreUrl,
    vars: &IndexMap<String, String>,
    write: bool,
    prune: bool,
) -> Result<Outcome> {
    let StoreKind::Vault { mount, path, .. } = &url.kind else {
        return Err(ClientError::Input(format!("{url} is not a Vault URL")));
    };
    let failed = |failure| ClientError::Store {
        url: url.to_string(),
        failure,
    };
    let client = super::vault::VaultClient::new(url.endpoint.as_deref()).map_err(failed)?;
    let (held, version) = match client.read(mount, path).map_err(failed)? {
        Some(kv) => (
            kv.fields.into_iter().collect::<IndexMap<_, _>>(),
            kv.version,
        ),
        None => (IndexMap::new(), 0),
    };
    let drift = Drift::between(vars, &held);
    let mut outcome = Outcome { drift, writes: 0 };
    if write && !outcome.drift.is_empty(prune) {
        let mut fields: Vec<(String, Zeroizing<String>)> = Vec::new();
        if !prune {
            fields.extend(held.into_iter().filter(|(key, _)| !vars.contains_key(key)));
        }
        fields.extend(
            vars.iter()
                .map(|(key, value)| (key.clone(), Zeroizing::new(value.clone()))),
        );
        client
            .write(mount, path, &fields, version)
            .map_err(failed)?;
        outcome.writes = 1;
    }
    Ok(outcome)
}
