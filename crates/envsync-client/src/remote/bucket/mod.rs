//! An object-storage bucket as a remote: S3 and S3-compatible stores, Google Cloud Storage
//! and Azure Blob, through one code path on the `object_store` crate.
//!
//! The keys mirror the folder remote's files under the URL's prefix, plus one hint per
//! environment and one object that proves the store honours conditional writes:
//!
//! ```text
//! PREFIX/PROJECT/members/00000001.json                   membership log (create-only)
//! PREFIX/PROJECT/requests/FINGERPRINT.json               access requests
//! PREFIX/PROJECT/environments/ENV/versions/00000001.json version records (create-only)
//! PREFIX/PROJECT/environments/ENV/objects/SHA256.age     ciphertexts: plain age files
//! PREFIX/PROJECT/environments/ENV/head                   the newest version number, a hint
//! PREFIX/PROJECT/conditional-write-check                 written once, refused ever after
//! ```
//!
//! `object_store` is async; the `Remote` trait is not, because a command does one thing
//! at a time. So the remote owns a single-threaded tokio runtime and blocks on each request.

mod failure;
mod head;
mod location;
mod objects;
mod profile;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode};

use self::failure::{Operation, is_missing_object};
use self::location::Location;
use crate::error::{ClientError, Result};
use crate::records::{AccessRequest, MembershipEvent, Seal, VersionRecord};
use crate::remote::Remote;

const CHECK_OBJECT: &str = "conditional-write-check";
const CHECK_BODY: &[u8] =
    b"envsync wrote this object once; a store that lets it be created again cannot keep two pushes from both winning\n";

pub struct BucketRemote {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    display: String,
    endpoint: Option<String>,
    /// Where envsync looked for credentials and found none (S3 only), for error messages.
    missing_credentials: Option<String>,
    runtime: tokio::runtime::Runtime,
    /// Set once this process has seen the store refuse to create an existing object.
    conditional_writes_seen: Cell<bool>,
}

/// Checks a bucket URL's form without opening the store.
pub(crate) fn check_spec(spec: &str) -> Result<()> {
    Location::parse(spec).map(drop)
}

impl BucketRemote {
    /// Opens `s3://…`, `gs://…` or `az://…`. Makes no request: a wrong bucket or missing
    /// credentials surface on first use, as one-line errors.
    pub fn open(spec: &str) -> Result<Self> {
        let location = Location::parse(spec)?;
        let (store, endpoint) = location.open_store()?;
        let missing_credentials = location.missing_credentials();
        let mut remote = Self::with_store(store, location.prefix, location.display, endpoint)?;
        remote.missing_credentials = missing_credentials;
        Ok(remote)
    }

    fn with_store(
        store: Arc<dyn ObjectStore>,
        prefix: Path,
        display: String,
        endpoint: Option<String>,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ClientError::io("starting the object storage client", error))?;
        Ok(Self {
            store,
            prefix,
            display,
            endpoint,
            missing_credentials: None,
            runtime,
            conditional_writes_seen: Cell::new(false),
        })
    }

    fn key(&self, parts: &[&str]) -> Path {
        parts
            .iter()
            .fold(self.prefix.clone(), |path, part| path.join(*part))
    }

    fn environment_key(&self, project: &str, environment: &str, parts: &[&str]) -> Path {
        let mut all = vec![project, "environments", environment];
        all.extend_from_slice(parts);
        self.key(&all)
    }
}

fn record_name(number: u64) -> String {
    format!("{number:08}.json")
}

fn record_number(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".json")?;
    if stem.is_empty() || !stem.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

impl Remote for BucketRemote {
    fn describe(&self) -> String {
        format!("bucket {}", self.display)
    }

    fn environments(&self, project: &str) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .directories(&self.key(&[project, "environments"]))?
            .into_iter()
            .filter(|name| envsync_core::config::is_valid_name(name))
            .collect();
        names.sort();
        Ok(names)
    }

    fn head(&self, project: &str, environment: &str) -> Result<Option<u64>> {
        let hint = self
            .get_optional(&self.environment_key(project, environment, &["head"]))?
            .map_or(0, |bytes| head::decode_hint(&bytes));
        let versions = self.environment_key(project, environment, &["versions"]);
        let newest = head::probe_head(hint, |number| {
            self.exists(&versions.clone().join(record_name(number).as_str()))
        })?;
        Ok((newest > 0).then_some(newest))
    }

    fn version(&self, project: &str, environment: &str, number: u64) -> Result<VersionRecord> {
        let key = self.environment_key(project, environment, &["versions", &record_name(number)]);
        let what = format!("version {number} of {project}/{environment}");
        Ok(VersionRecord::from_json(
            &self.get_required(&key, &what)?,
            &what,
        )?)
    }

    fn ciphertext(&self, project: &str, environment: &str, sha256: &str) -> Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(ClientError::Integrity(format!(
                "malformed ciphertext digest `{sha256}`"
            )));
        }
        let name = format!("{sha256}.age");
        let key = self.environment_key(project, environment, &["objects", &name]);
        self.get_required(&key, &format!("ciphertext {sha256}"))
    }

    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool> {
        let body = &record.body;
        self.ensure_conditional_writes(&body.project)?;
        let environment =
            |parts: &[&str]| self.environment_key(&body.project, &body.environment, parts);
        // Content-addressed, so overwriting is harmless, and it replaces anything a forger
        // left under this name. It goes first, so a visible record is always complete.
        let object_name = format!("{}.age", body.ciphertext_sha256);
        self.put(
            &environment(&["objects", &object_name]),
            ciphertext,
            PutMode::Overwrite,
        )?;
        let versions = environment(&["versions", &record_name(body.number)]);
        if !self.put(&versions, &record.to_json(), PutMode::Create)? {
            return Ok(false);
        }
        // The version exists now whatever happens to the hint: a hint that failed to land
        // costs the next reader a few extra probes, not a failed push.
        let _ = self.put(
            &environment(&["head"]),
            &head::encode_hint(body.number),
            PutMode::Overwrite,
        );
        Ok(true)
    }

    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>> {
        let directory = self.key(&[project, "members"]);
        let mut numbers: Vec<u64> = self
            .names(&directory)?
            .iter()
            .filter_map(|name| record_number(name))
            .collect();
        numbers.sort_unstable();
        let mut events = Vec::with_capacity(numbers.len());
        for number in numbers {
            let what = format!("membership entry {number} of {project}");
            let key = directory.clone().join(record_name(number).as_str());
            events.push(MembershipEvent::from_json(
                &self.get_required(&key, &what)?,
                &what,
            )?);
        }
        Ok(events)
    }

    fn append_membership(&self, event: &MembershipEvent) -> Result<bool> {
        self.ensure_conditional_writes(&event.body.project)?;
        let key = self.key(&[
            &event.body.project,
            "members",
            &record_name(event.body.number),
        ]);
        self.put(&key, &event.to_json(), PutMode::Create)
    }

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>> {
        let directory = self.key(&[project, "requests"]);
        let mut requests = Vec::new();
        for name in self.names(&directory)? {
            if !name.ends_with(".json") {
                continue;
            }
            let key = directory.clone().join(name.as_str());
            let what = format!("access request {key}");
            // A garbled or vanished request is someone else's problem: skip it rather than
            // block everyone.
            if let Some(bytes) = self.get_optional(&key)?
                && let Ok(request) = AccessRequest::from_json(&bytes, &what)
            {
                requests.push(request);
            }
        }
        requests.sort_by(|a, b| a.body.created_at.cmp(&b.body.created_at));
        Ok(requests)
    }

    fn put_access_request(&self, request: &AccessRequest) -> Result<()> {
        let fingerprint = request.verified_signer()?.fingerprint();
        let name = format!("{fingerprint}.json");
        let key = self.key(&[&request.body.project, "requests", &name]);
        self.put(&key, &request.to_json(), PutMode::Overwrite)
            .map(drop)
    }

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()> {
        let name = format!("{fingerprint}.json");
        let key = self.key(&[project, "requests", &name]);
        match self.runtime.block_on(self.store.delete(&key)) {
            Ok(()) => Ok(()),
            Err(error) if is_missing_object(&error) => Ok(()),
            Err(error) => Err(self.fail(Operation::Delete, &key, &error)),
        }
    }
}
