//! The signed records (defined in `envsync_core::records`, shared with the server), signed
//! and verified with this user's identity and envsync-crypto.

pub use envsync_core::records::{
    AccessRequest, AccessRequestBody, ChangeSummary, FORMAT, InviteBody, JoinProof, JoinProofBody,
    MembershipAction, MembershipBody, MembershipEvent, Pin, PublicationBody, PublicationRecord,
    RecordError, Signable, Signed, SignedInvite, Verifier, VersionBody, VersionRecord,
    signed_bytes,
};
use envsync_crypto::{Identity, MemberKey, Signature};

use crate::error::{ClientError, Result};

/// Verifies member-key signatures with envsync-crypto.
pub struct CryptoVerifier;

impl Verifier for CryptoVerifier {
    fn verify(&self, member_key: &str, message: &[u8], signature: &str) -> bool {
        let Ok(key) = member_key.parse::<MemberKey>() else {
            return false;
        };
        Signature::from_base64(signature)
            .is_ok_and(|signature| key.verify(message, &signature).is_ok())
    }
}

/// Signing and checking records with envsync-crypto's keys.
pub trait Seal<T: Signable>: Sized {
    /// Signs `body` with `identity`, which must be the signer the body names.
    fn sign(body: T, identity: &Identity) -> Self;
    /// The signer's key, once the signature verifies against it.
    fn verified_signer(&self) -> Result<MemberKey>;
}

impl<T: Signable> Seal<T> for Signed<T> {
    fn sign(body: T, identity: &Identity) -> Self {
        let signature = identity.sign(&signed_bytes(&body)).to_base64();
        Self { body, signature }
    }

    fn verified_signer(&self) -> Result<MemberKey> {
        let signer: MemberKey = self
            .body
            .signer()
            .parse()
            .map_err(|error| ClientError::Integrity(format!("{}: {error}", T::DOMAIN)))?;
        self.verify_signature(&CryptoVerifier, T::DOMAIN)?;
        Ok(signer)
    }
}

impl From<RecordError> for ClientError {
    fn from(error: RecordError) -> Self {
        ClientError::Integrity(error.to_string())
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
