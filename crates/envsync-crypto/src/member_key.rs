use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature as DalekSignature, Verifier, VerifyingKey};

use crate::CryptoError;

/// The public half of an identity: what teammates encrypt to and verify signatures with.
///
/// Written as `age1…:SIGNINGKEY`, the age recipient and the base64url Ed25519 verifying key,
/// so one copy-pasteable token carries both.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MemberKey {
    pub(crate) recipient: age::x25519::Recipient,
    verifying: VerifyingKey,
    text: String,
}

impl MemberKey {
    pub(crate) fn new(recipient: age::x25519::Recipient, verifying: VerifyingKey) -> Self {
        let text = format!(
            "{recipient}:{}",
            URL_SAFE_NO_PAD.encode(verifying.as_bytes())
        );
        Self {
            recipient,
            verifying,
            text,
        }
    }

    /// The age recipient (`age1…`), as the `age` CLI takes it with `-r`.
    pub fn age_recipient(&self) -> String {
        self.recipient.to_string()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A short, stable name for the key that people can compare over the phone.
    pub fn fingerprint(&self) -> String {
        envsync_core::records::fingerprint(&self.text)
    }

    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), CryptoError> {
        self.verifying
            .verify(message, &signature.0)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Display for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberKey({})", self.fingerprint())
    }
}

impl FromStr for MemberKey {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = |reason| CryptoError::MalformedMemberKey {
            key: text.chars().take(80).collect(),
            reason,
        };
        let (recipient, verifying) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| malformed("expected `age1…:SIGNINGKEY`"))?;
        let recipient = recipient
            .parse::<age::x25519::Recipient>()
            .map_err(|_| malformed("the part before `:` is not an age X25519 recipient"))?;
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(verifying)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| malformed("the signing key is not 32 bytes of base64url"))?;
        let verifying = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| malformed("the signing key is not a valid Ed25519 point"))?;
        Ok(Self::new(recipient, verifying))
    }
}

/// An Ed25519 signature, written as standard base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(pub(crate) DalekSignature);

impl Signature {
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.to_bytes())
    }

    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes: [u8; 64] = STANDARD
            .decode(text)
            .map_err(|_| CryptoError::MalformedSignature("not base64"))?
            .try_into()
            .map_err(|_| CryptoError::MalformedSignature("not 64 bytes"))?;
        Ok(Self(DalekSignature::from_bytes(&bytes)))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}
