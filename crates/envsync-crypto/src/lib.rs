//! envsync identities, encryption to member keys, and signatures.
//!
//! An identity is one age X25519 secret key. Its Ed25519 signing key is derived from it with
//! HKDF, so that a person or a CI job has exactly one secret to keep, and the identity file is
//! a plain age identity file that `age -d -i` accepts as it is.

pub mod dotenvx;
mod encryption;
mod error;
mod identity;
mod keyed_digest;
mod member_key;
mod passphrase;
pub mod sealed_box;

pub use encryption::encrypt;
pub use error::CryptoError;
pub use identity::Identity;
pub use keyed_digest::KeyedDigest;
pub use member_key::{MemberKey, Signature};
pub use passphrase::{
    PASSPHRASE_WORDS, decrypt_with_passphrase, encrypt_with_passphrase, generate_passphrase,
};
