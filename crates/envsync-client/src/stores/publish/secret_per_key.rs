//! One Secrets Manager secret per key (`aws-sm://PREFIX/*`: the secret `PREFIX/KEY` holds
//! the value of `KEY`), for services that read one secret per variable.
//!
//! Reading: `ListSecrets` (names under `PREFIX/`, a hundred a page, with those scheduled
//! for deletion) and `BatchGetSecretValue` (twenty values a request). Writing: one request
//! per differing key (`CreateSecret` for a new one, `PutSecretValue` for a changed one,
//! `RestoreSecret` first for one a prune scheduled for deletion). `--prune` schedules a
//! removed key's secret for deletion with the shortest recovery window (7 days), so a
//! mistaken prune can be undone with `aws secretsmanager restore-secret`.

use indexmap::IndexMap;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{Drift, Outcome};
use crate::stores::StoreFailure;
use crate::stores::aws::{self, AwsClient};

/// The secrets under the prefix: key → whether it is scheduled for deletion.
type Listed = IndexMap<String, bool>;

pub(super) fn publish(
    client: &AwsClient,
    prefix: &str,
    vars: &IndexMap<String, String>,
    write: bool,
    prune: bool,
) -> Result<Outcome, StoreFailure> {
    let listed = list(client, prefix)?;
    let live: Vec<&String> = listed
        .iter()
        .filter(|(_, deleted)| !**deleted)
        .map(|(key, _)| key)
        .collect();
    let held = values(client, prefix, &live)?;
    let mut outcome = Outcome {
        drift: Drift::between(vars, &held),
        writes: 0,
    };
    if !write {
        return Ok(outcome);
    }
    for key in &outcome.drift.missing {
        let name = format!("{prefix}/{key}");
        if listed.get(key) == Some(&true) {
            call(client, "RestoreSecret", &json!({ "SecretId": name }), key)?;
            outcome.writes += 1;
            put(client, &name, key, &vars[key])?;
        } else {
            let body = json!({ "Name": name, "SecretString": vars[key] });
            call(client, "CreateSecret", &body, key)?;
        }
        outcome.writes += 1;
    }
    for key in &outcome.drift.changed {
        put(client, &format!("{prefix}/{key}"), key, &vars[key])?;
        outcome.writes += 1;
    }
    if prune {
        for key in &outcome.drift.extra {
            let body = json!({ "SecretId": format!("{prefix}/{key}"), "RecoveryWindowInDays": 7 });
            call(client, "DeleteSecret", &body, key)?;
            outcome.writes += 1;
        }
    }
    Ok(outcome)
}

fn put(client: &AwsClient, name: &str, key: &str, value: &str) -> Result<(), StoreFailure> {
    let body = json!({ "SecretId": name, "SecretString": value });
    call(client, "PutSecretValue", &body, key).map(drop)
}

/// One call about `key`; a failure names the key (never its value).
fn call(client: &AwsClient, action: &str, body: &Value, key: &str) -> Result<Value, StoreFailure> {
    let reply = client.call(action, body)?;
    if reply.is_success() {
        return reply.json();
    }
    Err(match aws::failure(&reply) {
        StoreFailure::Denied { status, message } => StoreFailure::Denied {
            status,
            message: format!("key {key}: {message}"),
        },
        StoreFailure::Refused { status, message } => StoreFailure::Refused {
            status,
            message: format!("key {key}: {message}"),
        },
        other => StoreFailure::BadResponse(format!("key {key}: {action}: {other}")),
    })
}

/// The keys directly under `prefix/`, through every page.
fn list(client: &AwsClient, prefix: &str) -> Result<Listed, StoreFailure> {
    let folder = format!("{prefix}/");
    let mut listed = Listed::new();
    let mut next: Option<String> = None;
    loop {
        let mut body = json!({
            "Filters": [{ "Key": "name", "Values": [folder] }],
            "IncludePlannedDeletion": true,
            "MaxResults": 100,
        });
        if let Some(token) = &next {
            body["NextToken"] = Value::String(token.clone());
        }
        let json = call(client, "ListSecrets", &body, &folder)?;
        for secret in json["SecretList"].as_array().into_iter().flatten() {
            let name = secret["Name"].as_str().unwrap_or_default();
            match name.strip_prefix(&folder) {
                Some(key) if !key.is_empty() && !key.contains('/') => {
                    listed.insert(key.to_owned(), !secret["DeletedDate"].is_null());
                }
                _ => {}
            }
        }
        next = json["NextToken"].as_str().map(str::to_owned);
        if next.is_none() {
            return Ok(listed);
        }
    }
}

/// The values of `keys`, twenty a request.
fn values(
    client: &AwsClient,
    prefix: &str,
    keys: &[&String],
) -> Result<IndexMap<String, Zeroizing<String>>, StoreFailure> {
    let mut held = IndexMap::new();
    for batch in keys.chunks(20) {
        let names: Vec<String> = batch.iter().map(|key| format!("{prefix}/{key}")).collect();
        let reply = client.call("BatchGetSecretValue", &json!({ "SecretIdList": names }))?;
        if !reply.is_success() {
            return Err(aws::failure(&reply));
        }
        let json = reply.json()?;
        if let Some(error) = json["Errors"].as_array().and_then(|errors| errors.first()) {
            let (id, code) = (&error["SecretId"], &error["ErrorCode"]);
            return Err(StoreFailure::Refused {
                status: reply.status,
                message: format!("reading {id}: {code}"),
            });
        }
        for secret in json["SecretValues"].as_array().into_iter().flatten() {
            let name = secret["Name"].as_str().unwrap_or_default();
            let key = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('/'));
            let (Some(key), Some(value)) = (key, secret["SecretString"].as_str()) else {
                return Err(StoreFailure::BadResponse(format!(
                    "{name}: no SecretString"
                )));
            };
            held.insert(key.to_owned(), Zeroizing::new(value.to_owned()));
        }
    }
    Ok(held)
}
