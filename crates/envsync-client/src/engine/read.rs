use envsync_core::hash::sha256_hex;
use zeroize::Zeroizing;

use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{Pin, VersionRecord};
use crate::remote::HeadWith;
use crate::workspace::Target;

impl Session {
    /// The remote head's plaintext, verified and decrypted in memory only: what `run
    /// --remote` and `export --remote` use, with no file on disk.
    pub fn head_plaintext(&mut self, target: &Target) -> Result<(Pin, Zeroizing<Vec<u8>>)> {
        let ahead = self.head_ahead(target, HeadWith::Version);
        let view = self.project_view(&target.project)?;
        let state = self.state.read(target)?;
        let (record, head, ciphertext) = self
            .verified_head_version(&view, target, state.as_ref(), ahead)?
            .ok_or_else(|| no_versions(target))?;
        let content = self.decrypt_or_ask(&view, target, &record, &ciphertext)?;
        Ok((head, content))
    }

    /// Fetches a verified record's ciphertext and decrypts it for this user. A user who is
    /// not a member yet gets their access request filed (see [`Session::ask_for_access`]):
    /// every command that reads a version asks on their behalf, except a dry run, which
    /// decrypts on its own.
    pub(crate) fn open_version(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
        let ciphertext = self.fetch_ciphertext(target, record)?;
        let content = self.decrypt_or_ask(view, target, record, &ciphertext)?;
        Ok((ciphertext, content))
    }

    /// Decrypts `ciphertext`, `record`'s, for this user, filing their access request when
    /// they are not a member yet: what [`Session::open_version`] does once it has the bytes.
    pub(crate) fn decrypt_or_ask(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        match self.decrypt(view, target, record, ciphertext) {
            Ok(content) => Ok(content),
            Err(error) => Err(self.filing_request_for(view, error)?),
        }
    }

    /// [`Session::open_version`] from this machine's kept copy of the ciphertext when it
    /// holds the very one `record` names (same SHA-256), else from the remote. Only for a
    /// head about to be replaced by a re-encryption: its plaintext goes into the new version
    /// and nowhere else, and the copy is the bytes an honest remote would send, which saves
    /// a round trip per environment of a membership change. Reads for the user (`pull`,
    /// `run --remote`) still fetch, so a remote that lost or damaged an object is noticed.
    pub(crate) fn open_version_kept(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let kept = self.ledger.kept_ciphertext(record).ok().flatten();
        let ciphertext = match kept {
            Some(kept) if sha256_hex(&kept) == record.body.ciphertext_sha256 => kept,
            _ => self.fetch_ciphertext(target, record)?,
        };
        self.decrypt_or_ask(view, target, record, &ciphertext)
    }

    /// The remote head, verified; an environment without versions is bad input here.
    pub(crate) fn require_verified_head(
        &mut self,
        view: &ProjectView,
        target: &Target,
    ) -> Result<VersionRecord> {
        self.verified_head(view, target)?
            .ok_or_else(|| no_versions(target))
    }

    /// The remote head's number as the remote states it, unverified, or `None` when the
    /// remote cannot be asked: only for advice (`init` saying pull or push), never for data.
    pub fn head_for_advice(&self, target: &Target) -> Option<Option<u64>> {
        self.remote.head(target).ok()
    }

    /// The linked file's bytes; a missing file says how to get it.
    pub fn local_plaintext(&self, target: &Target) -> Result<Zeroizing<Vec<u8>>> {
        self.read_local(target)?.map(Zeroizing::new).ok_or_else(|| {
            ClientError::Input(format!(
                "{} does not exist: run `envsync pull`, or pass --remote to read the remote head",
                target.file_label
            ))
        })
    }
}

/// What reading the head of an environment without versions is.
fn no_versions(target: &Target) -> ClientError {
    ClientError::Input(format!("{target} has no versions on the remote yet"))
}
