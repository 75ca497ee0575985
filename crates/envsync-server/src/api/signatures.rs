//! Checking the signatures on what clients send. The server verifies Ed25519 only (it
//! links no age, no X25519 and not the crypto crate), which is enough to refuse garbage and
//! forgeries at the door: a record whose signature fails would jam every honest client
//! that reads it, and a join proof that fails would hand one account's token to another.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, VerifyingKey};
use envsync_core::records::{FORMAT, Signable, Signed, Verifier};

use super::ApiError;

/// Verifies member-key signatures: the key text is `age1…:<base64url Ed25519 key>`, the
/// signature standard base64, as envsync-crypto writes them.
pub struct Ed25519Verifier;

impl Verifier for Ed25519Verifier {
    fn verify(&self, member_key: &str, message: &[u8], signature: &str) -> bool {
        let Some(key) = signing_key(member_key) else {
            return false;
        };
        let Some(signature) = STANDARD
            .decode(signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        else {
            return false;
        };
        key.verify_strict(message, &Signature::from_bytes(&signature))
            .is_ok()
    }
}

/// The Ed25519 half of a member key, if the text holds a valid one.
fn signing_key(member_key: &str) -> Option<VerifyingKey> {
    let (_, signing) = member_key.split_once(':')?;
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(signing).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Parses a signed record of the current format and checks its signature by the signer it
/// names; `what` names it in the 400 that refuses it.
pub fn verified<T: Signable>(bytes: &[u8], what: &str) -> Result<Signed<T>, ApiError> {
    let record = parsed::<T>(bytes, what)?;
    record
        .verify_signature(&Ed25519Verifier, what)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    Ok(record)
}

/// [`verified`], with the record's digest, hashed from the bytes its signature was checked
/// on: what a version's successor names as its parent.
pub fn verified_digest<T: Signable>(
    bytes: &[u8],
    what: &str,
) -> Result<(Signed<T>, String), ApiError> {
    let record = parsed::<T>(bytes, what)?;
    let digest = record
        .verify_signature_digest(&Ed25519Verifier, what)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    Ok((record, digest))
}

/// Parses a signed record and refuses one of another format. The format is read off the
/// parsed body, not from a second parse of the whole text.
fn parsed<T: Signable>(bytes: &[u8], what: &str) -> Result<Signed<T>, ApiError> {
    let record = Signed::<T>::from_json(bytes, what)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let format = record.body.format();
    if format != FORMAT {
        return Err(ApiError::bad_request(format!(
            "{what}: format {format} is not supported; this server takes format {FORMAT}"
        )));
    }
    Ok(record)
}

pub use envsync_core::records::fingerprint;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_never_verifies() {
        let verifier = Ed25519Verifier;
        assert!(!verifier.verify("age1x:notakey", b"m", "AAAA"));
        let key = format!("age1x:{}", URL_SAFE_NO_PAD.encode([0u8; 32]));
        assert!(!verifier.verify(&key, b"m", "AAAA"));
        assert!(!verifier.verify(&key, b"m", &STANDARD.encode([0u8; 64])));
    }
}
