//! Publishing to GitHub Actions secrets (`github:OWNER/REPO[@ENVIRONMENT]`).
//!
//! GitHub never returns a secret's value, only its name and when it was last updated. So
//! that a second run writes nothing, this machine keeps a [`PublishRecord`] of what it last
//! wrote: per secret, a keyed digest of the value (HMAC under a key derived from the
//! identity: the record cannot be used to test guesses of a value) and GitHub's
//! `updated_at` after the write. A secret is in step when both still match; one updated
//! since (by someone else) counts as changed; one this machine has no record of is
//! *unverified*: written by a publish, reported but not counted as drift by `--check`.

use std::collections::BTreeMap;

use envsync_crypto::sealed_box;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{Drift, Memory, Outcome};
use crate::error::{ClientError, Result};
use crate::stores::github::{GitHubClient, Scope};
use crate::stores::{StoreFailure, StoreUrl};

/// What this machine last wrote to one target whose values cannot be read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishRecord {
    /// Secret name → what was written.
    pub keys: BTreeMap<String, RecordedKey>,
}

/// One secret as last written: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedKey {
    /// HMAC-SHA-256 of the target, the name and the value, under the identity's digest key.
    pub digest: String,
    /// GitHub's `updated_at` of the secret just after the write.
    pub updated_at: String,
}

pub(super) fn publish(
    url: &StoreUrl,
    scope: &Scope,
    vars: &IndexMap<String, String>,
    (write, prune): (bool, bool),
    memory: &mut Memory<'_>,
) -> Result<Outcome> {
    let failed = |failure| ClientError::Store {
        url: url.to_string(),
        failure,
    };
    let wanted = secret_names(url, vars)?;
    let client = GitHubClient::new(url.endpoint.as_deref()).map_err(failed)?;
    let held = client.list(scope).map_err(failed)?;
    let label = scope.label();
    let digests: IndexMap<&str, String> = wanted
        .iter()
        .map(|(name, value)| {
            let parts: [&[u8]; 3] = [label.as_bytes(), name.as_bytes(), value.as_bytes()];
            (name.as_str(), memory.digests.digest(&parts))
        })
        .collect();
    let drift = compare(&digests, &held, &memory.record);
    let mut outcome = Outcome { drift, writes: 0 };
    if !write {
        return Ok(outcome);
    }
    let drift = &outcome.drift;
    let stale: Vec<&String> = drift.missing.iter().chain(&drift.changed).collect();
    let stale: Vec<&String> = stale.into_iter().chain(&drift.unverified).collect();
    if !stale.is_empty() {
        let key = client.public_key(scope).map_err(failed)?;
        for name in stale {
            let sealed = sealed_box::seal(&key.key, wanted[name].as_bytes()).map_err(|error| {
                failed(StoreFailure::BadResponse(format!(
                    "GitHub's public key: {error}"
                )))
            })?;
            client.put(scope, name, &sealed, &key).map_err(failed)?;
            outcome.writes += 1;
        }
    }
    if prune {
        for name in &outcome.drift.extra {
            client.delete(scope, name).map_err(failed)?;
            outcome.writes += 1;
        }
    }
    if outcome.writes > 0 {
        let after = client.list(scope).map_err(failed)?;
        memory.record = record_of(&digests, &after);
    }
    Ok(outcome)
}

/// Drift by name: missing, changed (the record's digest or GitHub's `updated_at` differs),
/// unverified (no record) and extra.
fn compare(
    digests: &IndexMap<&str, String>,
    held: &IndexMap<String, String>,
    record: &PublishRecord,
) -> Drift {
    let mut drift = Drift::default();
    for (name, digest) in digests {
        let Some(updated_at) = held.get(*name) else {
            drift.missing.push((*name).to_owned());
            continue;
        };
        match record.keys.get(*name) {
            None => drift.unverified.push((*name).to_owned()),
            Some(recorded) if recorded.digest != *digest || recorded.updated_at != *updated_at => {
                drift.changed.push((*name).to_owned());
            }
            Some(_) => {}
        }
    }
    drift.extra = held
        .keys()
        .filter(|name| !digests.contains_key(name.as_str()))
        .cloned()
        .collect();
    drift
}

fn record_of(digests: &IndexMap<&str, String>, held: &IndexMap<String, String>) -> PublishRecord {
    let keys = digests
        .iter()
        .filter_map(|(name, digest)| {
            let updated_at = held.get(*name)?.clone();
            let digest = digest.clone();
            Some(((*name).to_owned(), RecordedKey { digest, updated_at }))
        })
        .collect();
    PublishRecord { keys }
}

/// The variables by the names GitHub gives them: secret names are case-insensitive and
/// listed in upper case. A key GitHub cannot hold is refused before anything is written.
fn secret_names<'v>(
    url: &StoreUrl,
    vars: &'v IndexMap<String, String>,
) -> Result<IndexMap<String, &'v String>> {
    let mut names = IndexMap::new();
    for (key, value) in vars {
        let name = key.to_ascii_uppercase();
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && !name.starts_with("GITHUB_");
        if !valid {
            return Err(ClientError::Input(format!(
                "{url}: key `{key}` cannot be a GitHub secret name (letters, digits and _, not \
                 starting with a digit or GITHUB_); leave it out with keys = [\"*\", \"!{key}\"]"
            )));
        }
        if names.insert(name, value).is_some() {
            return Err(ClientError::Input(format!(
                "{url}: two keys are `{key}` to GitHub, whose secret names ignore case; leave \
                 one out with keys = [\"*\", \"!{key}\"]"
            )));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(digest: &str, updated_at: &str) -> RecordedKey {
        RecordedKey {
            digest: digest.into(),
            updated_at: updated_at.into(),
        }
    }

    #[test]
    fn drift_against_the_record_and_github_listing() {
        let digests: IndexMap<&str, String> = [("A", "d1"), ("B", "d2"), ("C", "d3"), ("D", "d4")]
            .into_iter()
            .map(|(name, digest)| (name, digest.to_owned()))
            .collect();
        let held: IndexMap<String, String> = [("A", "t1"), ("B", "t2"), ("C", "t9"), ("X", "t")]
            .into_iter()
            .map(|(name, at)| (name.to_owned(), at.to_owned()))
            .collect();
        let mut record = PublishRecord::default();
        record.keys.insert("A".into(), recorded("d1", "t1"));
        record.keys.insert("C".into(), recorded("d3", "t3"));
        let drift = compare(&digests, &held, &record);
        assert_eq!(drift.missing, ["D"]);
        assert_eq!(drift.changed, ["C"], "updated on GitHub since");
        assert_eq!(drift.unverified, ["B"]);
        assert_eq!(drift.extra, ["X"]);
        record.keys.insert("A".into(), recorded("other", "t1"));
        assert_eq!(compare(&digests, &held, &record).changed, ["A", "C"]);
    }

    #[test]
    fn names_github_cannot_hold_are_refused() {
        let url = StoreUrl::parse("github:acme/app").unwrap();
        let vars = |keys: &[&str]| -> IndexMap<String, String> {
            keys.iter()
                .map(|key| ((*key).to_owned(), "v".to_owned()))
                .collect()
        };
        let good = vars(&["db_url", "A1"]);
        let names = secret_names(&url, &good).unwrap();
        assert_eq!(names.keys().collect::<Vec<_>>(), ["DB_URL", "A1"]);
        for bad in ["1A", "GITHUB_X", "a-b", "a.b"] {
            let error = secret_names(&url, &vars(&[bad])).unwrap_err().to_string();
            assert!(
                error.contains(bad) && error.contains("github:acme/app"),
                "{error}"
            );
        }
        let error = secret_names(&url, &vars(&["Key", "KEY"])).unwrap_err();
        assert!(error.to_string().contains("ignore case"));
    }
}
