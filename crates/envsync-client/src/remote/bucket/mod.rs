//! An object-storage bucket as a remote: S3 and S3-compatible stores, Google Cloud Storage
//! and Azure Blob, through one code path on the `object_store` crate.
//!
//! The keys are the folder remote's files ([`super::layout`]) under the URL's prefix,
//! plus one hint per environment and one object that proves the store honours conditional
//! writes: `PREFIX/PROJECT/conditional-write-check`, written once, refused ever after.
//!
//! `object_store` is async; the `Remote` trait is not, because a command does one thing
//! at a time. So the remote owns a single-threaded tokio runtime and blocks on each request.

mod failure;
mod location;
mod objects;
pub(crate) mod profile;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode};

use self::failure::{Operation, is_missing_object};
use self::location::Location;
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::records::{AccessRequest, MembershipEvent, PublicationRecord, Seal, VersionRecord};
use crate::remote::{Publications, Remote};
use crate::remote::{head, layout};

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

    /// The key at `segments` (see [`layout`]) below the prefix.
    fn layout_key(&self, segments: &[String]) -> Path {
        segments
            .iter()
            .fold(self.prefix.clone(), |path, part| path.join(part.as_str()))
    }
}

impl Remote for BucketRemote {
    fn describe(&self) -> String {
        format!("bucket {}", self.display)
    }

    fn environments(&self, project: &str) -> Result<Vec<String>> {
        Ok(layout::environment_names(self.directories(
            &self.layout_key(&layout::environments(project)),
        )?))
    }

    fn head(&self, place: &EnvironmentRef) -> Result<Option<u64>> {
        let hint = self
            .get_optional(&self.layout_key(&layout::head_hint(place)))?
            .map_or(0, |bytes| head::decode_hint(&bytes));
        let newest = head::probe_head(hint, |number| {
            self.exists(&self.layout_key(&layout::version(place, number)))
        })?;
        Ok((newest > 0).then_some(newest))
    }

    fn version(&self, place: &EnvironmentRef, number: u64) -> Result<VersionRecord> {
        let key = self.layout_key(&layout::version(place, number));
        let what = format!("version {number} of {place}");
        Ok(VersionRecord::from_json(
            &self.get_required(&key, &what)?,
            &what,
        )?)
    }

    fn ciphertext(&self, place: &EnvironmentRef, sha256: &str) -> Result<Vec<u8>> {
        let key = self.layout_key(&layout::object(place, sha256)?);
        self.get_required(&key, &format!("ciphertext {sha256}"))
    }

    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool> {
        let body = &record.body;
        self.ensure_conditional_writes(&body.project)?;
        let place = EnvironmentRef::from(body);
        // Content-addressed, so overwriting is harmless, and it replaces anything a forger
        // left under this name. It goes first, so a visible record is always complete.
        let object = self.layout_key(&layout::object(&place, &body.ciphertext_sha256)?);
        self.put(&object, ciphertext, PutMode::Overwrite)?;
        let versions = self.layout_key(&layout::version(&place, body.number));
        if !self.put(&versions, &record.to_json(), PutMode::Create)? {
            return Ok(false);
        }
        // The version exists now whatever happens to the hint: a hint that failed to land
        // costs the next reader a few extra probes, not a failed push.
        let _ = self.put(
            &self.layout_key(&layout::head_hint(&place)),
            &head::encode_hint(body.number),
            PutMode::Overwrite,
        );
        Ok(true)
    }

    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>> {
        let directory = self.layout_key(&layout::members(project));
        let numbers = layout::record_numbers(self.names(&directory)?);
        layout::membership(project, numbers, |entry, what| {
            self.get_required(&self.layout_key(entry), what)
        })
    }

    /// One GET per new entry and one for the number after the last, where the whole log
    /// costs a listing (a request per thousand keys) and a GET per entry.
    fn membership_from(&self, project: &str, first: u64) -> Result<Vec<MembershipEvent>> {
        layout::membership_from(project, first, |segments| {
            self.get_optional(&self.layout_key(segments))
        })
    }

    fn append_membership(&self, event: &MembershipEvent) -> Result<bool> {
        self.ensure_conditional_writes(&event.body.project)?;
        let key = self.layout_key(&layout::member_entry(
            &event.body.project,
            event.body.number,
        ));
        self.put(&key, &event.to_json(), PutMode::Create)
    }

    fn publications(&self, place: &EnvironmentRef) -> Result<Publications> {
        let directory = self.layout_key(&layout::publications(place));
        let numbers = layout::record_numbers(self.names(&directory)?);
        let mut files = Vec::with_capacity(numbers.len());
        for number in numbers {
            let key = self.layout_key(&layout::publication(place, number));
            files.extend(self.get_optional(&key)?.map(|bytes| (number, bytes)));
        }
        Ok(layout::publication_log(place, files))
    }

    fn append_publication(&self, record: &PublicationRecord) -> Result<bool> {
        self.ensure_conditional_writes(&record.body.project)?;
        let place = EnvironmentRef::from(&record.body);
        let key = self.layout_key(&layout::publication(&place, record.body.number));
        self.put(&key, &record.to_json(), PutMode::Create)
    }

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>> {
        let directory = self.layout_key(&layout::requests(project));
        let mut requests = Vec::new();
        for name in self.names(&directory)? {
            if !name.ends_with(".json") {
                continue;
            }
            let key = directory.clone().join(name.as_str());
            let what = format!("access request {key}");
            // A garbled or vanished request is someone else's problem: skip it rather than
            // block everyone.
            if let Some(bytes) = self.get_optional(&key)? {
                requests.extend(layout::access_request(&bytes, &what));
            }
        }
        layout::sort_requests(&mut requests);
        Ok(requests)
    }

    fn put_access_request(&self, request: &AccessRequest) -> Result<()> {
        let fingerprint = request.verified_signer()?.fingerprint();
        let key = self.layout_key(&layout::request(&request.body.project, &fingerprint));
        self.put(&key, &request.to_json(), PutMode::Overwrite)
            .map(drop)
    }

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()> {
        let key = self.layout_key(&layout::request(project, fingerprint));
        match self.runtime.block_on(self.store.delete(&key)) {
            Ok(()) => Ok(()),
            Err(error) if is_missing_object(&error) => Ok(()),
            Err(error) => Err(self.fail(Operation::Delete, &key, &error)),
        }
    }
}
