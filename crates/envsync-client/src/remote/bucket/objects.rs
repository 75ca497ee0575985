//! The few kinds of request the bucket remote makes, each one blocking on the remote's
//! runtime and each failure turned into a one-line error.

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};

use super::failure::{
    NoConditionalWrites, Operation, Where, is_missing_object, no_conditional_writes, remote_error,
};
use super::{BucketRemote, CHECK_BODY, CHECK_OBJECT};
use crate::error::{ClientError, Result};

impl BucketRemote {
    pub(super) fn place(&self) -> Where<'_> {
        Where {
            display: &self.display,
            endpoint: self.endpoint.as_deref(),
            missing_credentials: self.missing_credentials.as_deref(),
        }
    }

    pub(super) fn fail(
        &self,
        operation: Operation,
        key: &Path,
        error: &object_store::Error,
    ) -> ClientError {
        remote_error(&self.place(), operation, key.as_ref(), error)
    }

    /// The object's bytes, `None` when it does not exist.
    pub(super) fn get_optional(&self, key: &Path) -> Result<Option<Vec<u8>>> {
        let result = self.runtime.block_on(async {
            let response = self.store.get(key).await?;
            response.bytes().await
        });
        match result {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(error) if is_missing_object(&error) => Ok(None),
            Err(error) => Err(self.fail(Operation::Read, key, &error)),
        }
    }

    /// An object the history refers to: its absence means the remote lost or hid it.
    pub(super) fn get_required(&self, key: &Path, what: &str) -> Result<Vec<u8>> {
        self.get_optional(key)?.ok_or_else(|| {
            ClientError::Integrity(format!("{what} is missing from the remote ({key})"))
        })
    }

    /// One HEAD request.
    pub(super) fn exists(&self, key: &Path) -> Result<bool> {
        match self.runtime.block_on(self.store.head(key)) {
            Ok(_) => Ok(true),
            Err(error) if is_missing_object(&error) => Ok(false),
            Err(error) => Err(self.fail(Operation::Read, key, &error)),
        }
    }

    /// Writes an object. With `PutMode::Create`, `false` means it already existed.
    pub(super) fn put(&self, key: &Path, bytes: &[u8], mode: PutMode) -> Result<bool> {
        let payload = PutPayload::from(bytes.to_vec());
        let options = PutOptions::from(mode);
        match self
            .runtime
            .block_on(self.store.put_opts(key, payload, options))
        {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(false),
            Err(
                object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. },
            ) => Err(no_conditional_writes(
                &self.place(),
                NoConditionalWrites::TurnedOff,
            )),
            Err(error) => Err(self.fail(Operation::Write, key, &error)),
        }
    }

    /// The names of the objects directly under `directory`, in one listing (paged by the
    /// store every thousand keys).
    pub(super) fn names(&self, directory: &Path) -> Result<Vec<String>> {
        let listing = self
            .runtime
            .block_on(self.store.list_with_delimiter(Some(directory)))
            .map_err(|error| self.fail(Operation::List, directory, &error))?;
        Ok(listing
            .objects
            .iter()
            .filter_map(|object| object.location.filename().map(str::to_owned))
            .collect())
    }

    /// The names of the "directories" directly under `directory` (common prefixes).
    pub(super) fn directories(&self, directory: &Path) -> Result<Vec<String>> {
        let listing = self
            .runtime
            .block_on(self.store.list_with_delimiter(Some(directory)))
            .map_err(|error| self.fail(Operation::List, directory, &error))?;
        Ok(listing
            .common_prefixes
            .iter()
            .filter_map(|prefix| prefix.filename().map(str::to_owned))
            .collect())
    }

    /// Refuses to rely on create-only writes until the store has been seen to refuse one:
    /// some S3-compatible stores ignore `If-None-Match` and overwrite, which would let two
    /// pushes both become version N. The check object is created once per project; later
    /// checks cost one refused request per process that writes.
    pub(super) fn ensure_conditional_writes(&self, project: &str) -> Result<()> {
        if self.conditional_writes_seen.get() {
            return Ok(());
        }
        let key = self.key(&[project, CHECK_OBJECT]);
        let refused = !self.put(&key, CHECK_BODY, PutMode::Create)?
            || !self.put(&key, CHECK_BODY, PutMode::Create)?;
        if !refused {
            return Err(no_conditional_writes(
                &self.place(),
                NoConditionalWrites::Ignored,
            ));
        }
        self.conditional_writes_seen.set(true);
        Ok(())
    }
}
