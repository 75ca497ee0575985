/// Errors from identities, encryption and signatures.
///
/// Every failed decryption is one opaque variant (`NotARecipient` or `Decryption`), so that
/// nothing about the key material leaks; structural failures say precisely what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    #[error("the identity contains no AGE-SECRET-KEY-1… line")]
    MissingSecretKey,
    #[error("the identity's secret key is malformed: {0}")]
    MalformedSecretKey(&'static str),
    #[error("malformed member key `{key}`: {reason}")]
    MalformedMemberKey { key: String, reason: &'static str },
    #[error("malformed signature: {0}")]
    MalformedSignature(&'static str),
    #[error("signature does not verify")]
    BadSignature,
    #[error("this identity is not among the ciphertext's recipients")]
    NotARecipient,
    #[error("the ciphertext is corrupt or was tampered with")]
    Decryption,
    #[error("cannot encrypt to an empty recipient list")]
    NoRecipients,
    #[error("malformed public key to seal to: {0}")]
    MalformedSealKey(&'static str),
    #[error("encryption failed: {0}")]
    Encryption(String),
}
