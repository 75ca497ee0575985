//! Everything read from a remote passes through here before it is believed.

use envsync_core::hash::sha256_hex;
use envsync_crypto::CryptoError;
use zeroize::Zeroizing;

use super::access::sign_access_request;
use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
use crate::records::{FORMAT, VersionRecord};
use crate::workspace::Target;

impl Session {
    /// Fetches version `number` and checks its place, signature, signer and, when the
    /// previous record is known, its link to it.
    pub(crate) fn fetch_record(
        &mut self,
        view: &ProjectView,
        target: &Target,
        number: u64,
        previous: Option<&VersionRecord>,
    ) -> Result<VersionRecord> {
        let record = self
            .remote
            .version(&target.project, &target.environment, number)?;
        verify_record(view, target, number, &record)?;
        if let Some(previous) = previous
            && record.body.parent_digest.as_deref() != Some(previous.digest().as_str())
        {
            return Err(ClientError::Integrity(format!(
                "version {number} of {}/{} does not follow version {}: the history was rewritten or reordered",
                target.project, target.environment, previous.body.number
            )));
        }
        Ok(record)
    }

    /// Fetches and verifies the records from `base` (exclusive) to `head`, chained to
    /// `base` when there is one, and returns the head.
    pub(crate) fn fetch_chain(
        &mut self,
        view: &ProjectView,
        target: &Target,
        base: Option<&VersionRecord>,
        head: u64,
    ) -> Result<VersionRecord> {
        let Some(base) = base.filter(|base| base.body.number < head) else {
            return self.fetch_record(view, target, head, None);
        };
        let mut previous = base.clone();
        for number in base.body.number + 1..=head {
            previous = self.fetch_record(view, target, number, Some(&previous))?;
        }
        Ok(previous)
    }

    pub(crate) fn fetch_ciphertext(
        &self,
        target: &Target,
        record: &VersionRecord,
    ) -> Result<Vec<u8>> {
        let body = &record.body;
        let ciphertext = self.remote.ciphertext(
            &target.project,
            &target.environment,
            &body.ciphertext_sha256,
        )?;
        if sha256_hex(&ciphertext) != body.ciphertext_sha256 {
            return Err(ClientError::Integrity(format!(
                "the ciphertext of version {} of {}/{} is corrupt (its SHA-256 does not match the signed record)",
                body.number, target.project, target.environment
            )));
        }
        Ok(ciphertext)
    }

    /// Decrypts a version for this user, explaining what to do when they cannot.
    pub(crate) fn decrypt(
        &mut self,
        view: &ProjectView,
        target: &Target,
        record: &VersionRecord,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let number = record.body.number;
        let result = self.identity()?.decrypt(ciphertext);
        match result {
            Ok(plaintext) => Ok(plaintext),
            Err(CryptoError::NotARecipient) => Err(self.not_a_recipient(view, target, number)?),
            Err(_) => Err(ClientError::Integrity(format!(
                "version {number} of {}/{} does not decrypt: the ciphertext is corrupt",
                target.project, target.environment
            ))),
        }
    }

    fn not_a_recipient(
        &mut self,
        view: &ProjectView,
        target: &Target,
        number: u64,
    ) -> Result<ClientError> {
        let is_member = {
            let key = self.identity()?.member_key().as_str().to_owned();
            view.roster
                .find(&key)
                .is_some_and(|member| member.is_active())
        };
        if !is_member {
            return self.require_membership(view);
        }
        let fingerprint = self.identity()?.member_key().fingerprint();
        Ok(ClientError::Access(format!(
            "you are not a recipient of version {number} of {}/{}: ask a member who can read it to run `envsync members accept {fingerprint}` on their machine",
            target.project, target.environment
        )))
    }

    /// The error for a user who is not a member yet; files their access request on the
    /// remote so an owner sees it in `envsync status`.
    pub(crate) fn require_membership(&mut self, view: &ProjectView) -> Result<ClientError> {
        self.file_access_request(view)?;
        let identity = self.identity()?;
        let fingerprint = identity.member_key().fingerprint();
        Ok(ClientError::Access(format!(
            "you ({}, {fingerprint}) are not a member of project `{}` yet. Your access request is now on the remote: ask an owner to run `envsync members accept {fingerprint}` on their machine, then run this command again",
            identity.name(),
            view.project
        )))
    }

    /// Puts this user's signed access request on the remote (idempotent).
    pub(crate) fn file_access_request(&mut self, view: &ProjectView) -> Result<()> {
        let request = sign_access_request(self.identity()?, &view.project);
        self.remote.put_access_request(&request)
    }
}

fn verify_record(
    view: &ProjectView,
    target: &Target,
    number: u64,
    record: &VersionRecord,
) -> Result<()> {
    let body = &record.body;
    let label = format!(
        "version {number} of {}/{}",
        target.project, target.environment
    );
    if body.project != target.project
        || body.environment != target.environment
        || body.number != number
    {
        return Err(ClientError::Integrity(format!(
            "{label} is misplaced: it claims to be version {} of {}/{}",
            body.number, body.project, body.environment
        )));
    }
    if body.format != FORMAT {
        return Err(ClientError::Integrity(format!(
            "{label} has format {}; this envsync reads format {FORMAT} (upgrade envsync)",
            body.format
        )));
    }
    record.verify_signature().map_err(|_| {
        ClientError::Integrity(format!(
            "{label}: the signature does not verify (forged or tampered)"
        ))
    })?;
    let Some(author) = view.roster.find(&body.author) else {
        return Err(ClientError::Integrity(format!(
            "{label} is signed by a key that is not a member of project `{}`",
            target.project
        )));
    };
    if !view.trust.contains(&body.author) {
        return Err(ClientError::Access(format!(
            "{label} is signed by {} ({}), whose key you have not accepted yet: if you expect them, run `envsync members accept {}`",
            author.name,
            author.key.fingerprint(),
            author.key.fingerprint()
        )));
    }
    if !author.could_sign(&target.environment, number) {
        return Err(ClientError::Integrity(format!(
            "{label} is signed by {}, who may not push to `{}` at that version",
            author.name, target.environment
        )));
    }
    Ok(())
}
