//! The workspace's side of an environment: its linked file and its base (the version it
//! was last synced to, kept encrypted in `.envsync/`). Push, sync, pull and rollback read
//! and write them only through here, so the base is decrypted in one place.

use envsync_core::dotenv::Document;
use envsync_core::hash::sha256_hex;
use zeroize::Zeroizing;

use super::Session;
use crate::error::{ClientError, Result};
use crate::files::{
    Unlinked, read_open, read_optional_with, read_unless_link, sha256_open, write_atomic,
};
use crate::records::VersionRecord;
use crate::workspace::Target;

impl Session {
    /// The linked file's bytes, or [`ClientError::NoLinkedFile`] with `hint` (what to do).
    pub(crate) fn require_local_file(
        &self,
        target: &Target,
        hint: &'static str,
    ) -> Result<Vec<u8>> {
        self.read_local(target)?
            .ok_or_else(|| ClientError::NoLinkedFile {
                file: target.file_label.clone(),
                hint,
            })
    }

    pub(crate) fn read_local(&self, target: &Target) -> Result<Option<Vec<u8>>> {
        self.with_local_file(target, read_open)
    }

    /// The linked file's SHA-256, all `status` needs of it: hashed a chunk at a time, with no
    /// copy of the plaintext left in memory.
    pub(crate) fn local_sha256(&self, target: &Target) -> Result<Option<String>> {
        self.with_local_file(target, sha256_open)
    }

    /// What `read` gives of the linked file, `None` when there is none.
    fn with_local_file<T>(
        &self,
        target: &Target,
        read: impl Fn(&mut std::fs::File) -> std::io::Result<T>,
    ) -> Result<Option<T>> {
        // The usual label, one plain name, is opened without following a link, so its path
        // needs no check first; a link takes the checked way.
        if let Some(path) = self.workspace.plain_linked_file(target) {
            match read_unless_link(&path, &read)? {
                Unlinked::File(value) => return Ok(Some(value)),
                Unlinked::Missing => return Ok(None),
                Unlinked::Link => {}
            }
        }
        read_optional_with(&self.workspace.linked_file(target)?, read)
    }

    pub fn parse_local(target: &Target, bytes: &[u8]) -> Result<Document> {
        let text = std::str::from_utf8(bytes).map_err(|error| {
            ClientError::Input(format!(
                "{}: not valid UTF-8 (byte {})",
                target.file_label,
                error.valid_up_to()
            ))
        })?;
        Ok(Document::parse(text))
    }

    /// The workspace's base record and its plaintext, decrypted in memory: what push and
    /// sync diff and merge against. `None` before the first pull or push.
    pub(crate) fn local_base_content(
        &mut self,
        target: &Target,
    ) -> Result<Option<(VersionRecord, Zeroizing<Vec<u8>>)>> {
        let (Some(record), Some(ciphertext)) = (
            self.state.base_record(target)?,
            self.state.base_ciphertext(target)?,
        ) else {
            return Ok(None);
        };
        let content = self.identity()?.decrypt(&ciphertext).map_err(|_| {
            ClientError::LocalBaseUnreadable {
                place: target.place.clone(),
            }
        })?;
        Ok(Some((record, content)))
    }

    /// Keeps `local` (content about to be discarded) encrypted to this user's own key in the
    /// workspace state, and returns where: no local edit is ever lost without a copy.
    pub(crate) fn keep_backup(&mut self, target: &Target, local: &[u8]) -> Result<String> {
        let own_key = self.identity()?.member_key().clone();
        let sealed = envsync_crypto::encrypt(local, &[own_key])
            .map_err(|error| ClientError::Input(format!("encrypting backup: {error}")))?;
        let path = self.state.write_backup(target, &sealed)?;
        Ok(path.display().to_string())
    }

    /// Writes the linked file (0600, atomically), then records its base.
    pub(crate) fn write_local(
        &self,
        target: &Target,
        content: &[u8],
        record: &VersionRecord,
        ciphertext: &[u8],
    ) -> Result<()> {
        write_atomic(&self.workspace.linked_file(target)?, content)?;
        self.save_base(target, record, ciphertext, &sha256_hex(content))
    }

    /// Records `record` as the workspace's base of `target`, the linked file holding
    /// content whose hash is `file_sha256`. The base files share the ledger's copies of the
    /// version where they can, so the ledger is asked which it keeps.
    pub(crate) fn save_base(
        &self,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
        file_sha256: &str,
    ) -> Result<()> {
        let kept = self.ledger.kept_files(record);
        self.state
            .save_base(target, record, ciphertext, file_sha256, &kept)
    }
}
