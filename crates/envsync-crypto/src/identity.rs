use std::str::FromStr;

use age::secrecy::ExposeSecret;
use ed25519_dalek::{Signer, SigningKey};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{CryptoError, KeyedDigest, MemberKey, Signature};

const SIGNING_KEY_INFO: &[u8] = b"envsync/ed25519-signing-key/v1";
const DIGEST_KEY_INFO: &[u8] = b"envsync/publish-digest-key/v1";

/// A person's or a CI job's secret key pair.
///
/// Deliberately neither `Debug` nor `Serialize`: the only ways to see the secret are
/// [`Identity::to_identity_file`] and [`Identity::expose_age_secret_key`]. The Ed25519 key
/// zeroizes itself on drop; the age key does so inside the `age` crate.
pub struct Identity {
    age: age::x25519::Identity,
    signing: SigningKey,
    name: String,
    member_key: MemberKey,
}

impl Identity {
    /// Creates a new random identity; `name` labels it for teammates (e-mail, `ci-prod`, …).
    pub fn generate(name: &str) -> Self {
        Self::from_age(age::x25519::Identity::generate(), name)
    }

    fn from_age(age: age::x25519::Identity, name: &str) -> Self {
        let signing = derive_signing_key(&age);
        let member_key = MemberKey::new(age.to_public(), signing.verifying_key());
        Self {
            age,
            signing,
            name: name.to_owned(),
            member_key,
        }
    }

    /// Reads an identity file (comments and one `AGE-SECRET-KEY-1…` line) or a bare secret
    /// key, as `ENVSYNC_IDENTITY` may hold. A `# name: …` comment sets the name; without one,
    /// `default_name` is used.
    pub fn parse(text: &str, default_name: &str) -> Result<Self, CryptoError> {
        Self::parse_with(text, || default_name.to_owned())
    }

    /// [`Identity::parse`], asking `default_name` only for a file without a `# name:` line:
    /// working the name out may cost a process or a file read that a named file never needs.
    pub fn parse_with(
        text: &str,
        default_name: impl FnOnce() -> String,
    ) -> Result<Self, CryptoError> {
        let mut name = None;
        let mut secret = None;
        for line in text.lines().map(str::trim) {
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(value) = comment.trim().strip_prefix("name:") {
                    name = Some(value.trim().to_owned());
                }
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                secret = Some(line);
            } else if !line.is_empty() {
                return Err(CryptoError::MalformedSecretKey(
                    "unexpected line; expected comments and one AGE-SECRET-KEY-1… line",
                ));
            }
        }
        let secret = secret.ok_or(CryptoError::MissingSecretKey)?;
        let age =
            age::x25519::Identity::from_str(secret).map_err(CryptoError::MalformedSecretKey)?;
        let name = name
            .filter(|name| !name.is_empty())
            .unwrap_or_else(default_name);
        Ok(Self::from_age(age, &name))
    }

    /// The identity file's text: a valid age identity file (`age -d -i FILE` reads it).
    pub fn to_identity_file(&self, created: &str) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "# envsync identity: keep this file secret.\n\
             # name: {}\n\
             # created: {created}\n\
             # member key: {}\n\
             {}\n",
            self.name,
            self.member_key,
            self.age.to_string().expose_secret()
        ))
    }

    /// The bare `AGE-SECRET-KEY-1…` string, for moving the identity into a CI secret.
    pub fn expose_age_secret_key(&self) -> Zeroizing<String> {
        Zeroizing::new(self.age.to_string().expose_secret().to_owned())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn member_key(&self) -> &MemberKey {
        &self.member_key
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message))
    }

    /// The key of this identity's digests of published values (see [`KeyedDigest`]).
    pub fn keyed_digest(&self) -> KeyedDigest {
        KeyedDigest::new(derive_key(&self.age, DIGEST_KEY_INFO))
    }

    /// Decrypts an age file encrypted to this identity.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        age::decrypt(&self.age, ciphertext)
            .map(Zeroizing::new)
            .map_err(|error| match error {
                age::DecryptError::NoMatchingKeys => CryptoError::NotARecipient,
                _ => CryptoError::Decryption,
            })
    }
}

/// The signing key is a function of the age key so that one secret is all there is to keep.
fn derive_signing_key(age: &age::x25519::Identity) -> SigningKey {
    SigningKey::from_bytes(&derive_key(age, SIGNING_KEY_INFO))
}

/// A 32-byte key for one purpose (`info`), derived from the age key with HKDF-SHA-256.
fn derive_key(age: &age::x25519::Identity, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let secret = age.to_string();
    let hkdf = Hkdf::<Sha256>::new(Some(b"envsync"), secret.expose_secret().as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf.expand(info, key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_file_round_trips_with_the_same_keys() {
        let identity = Identity::generate("alice@example.com");
        let text = identity.to_identity_file("2026-01-01T00:00:00Z");
        let again = Identity::parse(&text, "fallback").unwrap();
        assert_eq!(again.member_key(), identity.member_key());
        assert_eq!(again.name(), "alice@example.com");
    }

    #[test]
    fn bare_secret_key_parses_with_default_name() {
        let identity = Identity::generate("x");
        let bare = identity.expose_age_secret_key();
        let again = Identity::parse(&bare, "ci").unwrap();
        assert_eq!(again.member_key(), identity.member_key());
        assert_eq!(again.name(), "ci");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            Identity::parse("# only comments\n", "x"),
            Err(CryptoError::MissingSecretKey)
        ));
        assert!(Identity::parse("AGE-SECRET-KEY-1NOPE\n", "x").is_err());
        assert!(Identity::parse("hello\n", "x").is_err());
    }

    #[test]
    fn signatures_verify_only_for_the_signed_message_and_key() {
        let alice = Identity::generate("alice");
        let bob = Identity::generate("bob");
        let signature = alice.sign(b"version 1");
        alice.member_key().verify(b"version 1", &signature).unwrap();
        assert!(alice.member_key().verify(b"version 2", &signature).is_err());
        assert!(bob.member_key().verify(b"version 1", &signature).is_err());
        let round = Signature::from_base64(&signature.to_base64()).unwrap();
        alice.member_key().verify(b"version 1", &round).unwrap();
    }

    #[test]
    fn member_key_text_round_trips() {
        let key = Identity::generate("a").member_key().clone();
        let parsed: MemberKey = key.as_str().parse().unwrap();
        assert_eq!(parsed, key);
        assert!("age1abc:xyz".parse::<MemberKey>().is_err());
        assert!("nonsense".parse::<MemberKey>().is_err());
    }
}
