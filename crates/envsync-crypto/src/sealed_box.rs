//! libsodium's sealed box (`crypto_box_seal`): anonymous encryption to an X25519 public key,
//! the format GitHub requires for Actions secrets. RustCrypto's `crypto_box` does the work;
//! nothing here is hand-written cryptography.

use crypto_box::PublicKey;
use crypto_box::aead::OsRng;

use crate::CryptoError;

/// Seals `plaintext` to a 32-byte X25519 public key. Only the holder of the matching secret
/// key can open it; the sender keeps nothing that could.
pub fn seal(public_key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let bytes: [u8; 32] = public_key
        .try_into()
        .map_err(|_| CryptoError::MalformedSealKey("an X25519 public key is 32 bytes"))?;
    PublicKey::from(bytes)
        .seal(&mut OsRng, plaintext)
        .map_err(|_| CryptoError::Encryption("sealing failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_box::SecretKey;

    #[test]
    fn a_sealed_box_opens_with_the_secret_key_only() {
        let secret = SecretKey::generate(&mut OsRng);
        let sealed = seal(secret.public_key().as_bytes(), b"hunter2").unwrap();
        assert_eq!(sealed.len(), 32 + 16 + 7);
        assert_eq!(secret.unseal(&sealed).unwrap(), b"hunter2");
        let other = SecretKey::generate(&mut OsRng);
        assert!(other.unseal(&sealed).is_err());
        assert!(seal(&[0u8; 31], b"x").is_err());
    }
}
