//! dotenvx's value encryption, so that teams can move between it and envsync: each value of
//! a dotenvx file is `encrypted:` and the base64 of an ECIES ciphertext (secp256k1, HKDF-SHA256,
//! AES-256-GCM, as eciesjs does by default) to the file's public key. The `ecies` crate is the
//! Rust twin of the eciesjs that dotenvx uses, with the same defaults; nothing here is
//! cryptography of our own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// What every encrypted dotenvx value starts with.
pub const ENCRYPTED_PREFIX: &str = "encrypted:";

/// Why a dotenvx key or value could not be used. Never carries a value or a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DotenvxError {
    #[error("the private key is not 64 hexadecimal digits of a secp256k1 secret key")]
    MalformedPrivateKey,
    #[error("the public key is not the hexadecimal of a compressed secp256k1 point")]
    MalformedPublicKey,
    #[error("the value is not `encrypted:` and base64")]
    MalformedValue,
    #[error("the value does not decrypt with this private key (another key, or tampered with)")]
    Decryption,
    #[error("the decrypted value is not UTF-8")]
    NotUtf8,
}

/// A dotenvx private key (`DOTENV_PRIVATE_KEY…`): a secp256k1 secret key. No `Debug`: it
/// opens every value of its file.
pub struct DotenvxKey {
    secret: Zeroizing<[u8; 32]>,
}

impl DotenvxKey {
    pub fn generate() -> Self {
        let (secret, _) = ecies::utils::generate_keypair();
        Self {
            secret: Zeroizing::new(secret.serialize()),
        }
    }

    /// Parses the hexadecimal form dotenvx writes to `.env.keys`.
    pub fn from_hex(text: &str) -> Result<Self, DotenvxError> {
        let bytes = Zeroizing::new(
            hex::decode(text.trim()).map_err(|_| DotenvxError::MalformedPrivateKey)?,
        );
        let secret =
            ecies::SecretKey::parse_slice(&bytes).map_err(|_| DotenvxError::MalformedPrivateKey)?;
        Ok(Self {
            secret: Zeroizing::new(secret.serialize()),
        })
    }

    /// The hexadecimal form, for the user to keep where the service reads it.
    pub fn expose_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.secret.as_slice()))
    }

    /// The compressed public key in hexadecimal, as dotenvx's `DOTENV_PUBLIC_KEY…` line.
    pub fn public_hex(&self) -> String {
        let secret = ecies::SecretKey::parse_slice(self.secret.as_slice())
            .expect("a key parsed or generated once parses again");
        hex::encode(ecies::PublicKey::from_secret_key(&secret).serialize_compressed())
    }

    /// Opens one `encrypted:…` value.
    pub fn decrypt(&self, value: &str) -> Result<Zeroizing<String>, DotenvxError> {
        let encoded = value
            .strip_prefix(ENCRYPTED_PREFIX)
            .ok_or(DotenvxError::MalformedValue)?;
        let ciphertext = STANDARD
            .decode(encoded.trim())
            .map_err(|_| DotenvxError::MalformedValue)?;
        let plain = Zeroizing::new(
            ecies::decrypt(self.secret.as_slice(), &ciphertext)
                .map_err(|_| DotenvxError::Decryption)?,
        );
        String::from_utf8(plain.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| DotenvxError::NotUtf8)
    }
}

/// Encrypts one value to a dotenvx public key (hexadecimal), as `encrypted:…`.
pub fn encrypt_value(public_hex: &str, value: &str) -> Result<String, DotenvxError> {
    let public = hex::decode(public_hex.trim()).map_err(|_| DotenvxError::MalformedPublicKey)?;
    let ciphertext =
        ecies::encrypt(&public, value.as_bytes()).map_err(|_| DotenvxError::MalformedPublicKey)?;
    Ok(format!("{ENCRYPTED_PREFIX}{}", STANDARD.encode(ciphertext)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_round_trips_and_only_its_key_opens_it() {
        let key = DotenvxKey::generate();
        let sealed = encrypt_value(&key.public_hex(), "s3cr=t \"quoted\"\nline").unwrap();
        assert!(sealed.starts_with(ENCRYPTED_PREFIX));
        assert_eq!(
            key.decrypt(&sealed).unwrap().as_str(),
            "s3cr=t \"quoted\"\nline"
        );
        let other = DotenvxKey::generate();
        assert_eq!(other.decrypt(&sealed).err(), Some(DotenvxError::Decryption));
        let again = DotenvxKey::from_hex(&key.expose_hex()).unwrap();
        assert_eq!(again.public_hex(), key.public_hex());
    }

    #[test]
    fn malformed_keys_and_values_are_refused() {
        assert!(DotenvxKey::from_hex("zz").is_err());
        assert!(DotenvxKey::from_hex(&"00".repeat(32)).is_err());
        assert!(encrypt_value("02abcd", "x").is_err());
        let key = DotenvxKey::generate();
        assert_eq!(
            key.decrypt("plain").err(),
            Some(DotenvxError::MalformedValue)
        );
        assert_eq!(
            key.decrypt("encrypted:%%").err(),
            Some(DotenvxError::MalformedValue)
        );
        let mut sealed = encrypt_value(&key.public_hex(), "v").unwrap();
        sealed.pop();
        sealed.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.decrypt(&sealed).is_err());
    }
}
