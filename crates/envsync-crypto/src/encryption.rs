use std::io::Write;

use crate::{CryptoError, MemberKey};

/// Encrypts `plaintext` to every member key as one plain age file.
pub fn encrypt(plaintext: &[u8], recipients: &[MemberKey]) -> Result<Vec<u8>, CryptoError> {
    if recipients.is_empty() {
        return Err(CryptoError::NoRecipients);
    }
    let encryptor = age::Encryptor::with_recipients(
        recipients
            .iter()
            .map(|key| &key.recipient as &dyn age::Recipient),
    )
    .map_err(|error| CryptoError::Encryption(error.to_string()))?;
    seal(encryptor, plaintext)
}

/// Streams `plaintext` through an age encryptor into one complete age file.
pub(crate) fn seal(encryptor: age::Encryptor, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut ciphertext = Vec::with_capacity(plaintext.len() + 512);
    let mut writer = encryptor
        .wrap_output(&mut ciphertext)
        .map_err(|error| CryptoError::Encryption(error.to_string()))?;
    writer
        .write_all(plaintext)
        .and_then(|()| writer.finish().map(drop))
        .map_err(|error| CryptoError::Encryption(error.to_string()))?;
    Ok(ciphertext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;

    #[test]
    fn every_recipient_and_only_they_decrypt() {
        let alice = Identity::generate("alice");
        let bob = Identity::generate("bob");
        let eve = Identity::generate("eve");
        let keys = [alice.member_key().clone(), bob.member_key().clone()];
        let ciphertext = encrypt(b"SECRET=1\n", &keys).unwrap();
        assert_eq!(
            alice.decrypt(&ciphertext).unwrap().as_slice(),
            b"SECRET=1\n"
        );
        assert_eq!(bob.decrypt(&ciphertext).unwrap().as_slice(), b"SECRET=1\n");
        assert!(matches!(
            eve.decrypt(&ciphertext),
            Err(CryptoError::NotARecipient)
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let alice = Identity::generate("alice");
        let mut ciphertext = encrypt(b"SECRET=1\n", &[alice.member_key().clone()]).unwrap();
        let last = ciphertext.len() - 1;
        ciphertext[last] ^= 1;
        assert!(matches!(
            alice.decrypt(&ciphertext),
            Err(CryptoError::Decryption)
        ));
        assert!(alice.decrypt(b"not an age file").is_err());
    }

    #[test]
    fn empty_recipient_list_is_refused() {
        assert!(matches!(encrypt(b"x", &[]), Err(CryptoError::NoRecipients)));
    }
}
