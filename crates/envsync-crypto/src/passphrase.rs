//! Passphrase encryption for onboarding bundles: age's scrypt recipient, and diceware
//! passphrases drawn from the EFF large wordlist (12.9 bits per word).

use age::secrecy::SecretString;
use rand::Rng;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::CryptoError;

/// Words in a generated passphrase: 6 × 12.9 ≈ 77 bits, beyond offline guessing through
/// scrypt.
pub const PASSPHRASE_WORDS: usize = 6;

/// The EFF large wordlist, one word per line: one string rather than a table of them, which
/// every command would relocate at start-up (see `build.rs`).
const WORDLIST: &str = include_str!(concat!(env!("OUT_DIR"), "/eff_large_wordlist.txt"));

/// A new passphrase of `words` words from the EFF large wordlist, separated by `-`.
pub fn generate_passphrase(words: usize) -> Zeroizing<String> {
    let list: Vec<&str> = WORDLIST.split('\n').collect();
    let chosen: Vec<&str> = (0..words)
        .map(|_| list[OsRng.gen_range(0..list.len())])
        .collect();
    Zeroizing::new(chosen.join("-"))
}

/// Encrypts to a passphrase as a plain age file (`age -d` asks for the passphrase).
pub fn encrypt_with_passphrase(plaintext: &[u8], passphrase: &str) -> Result<Vec<u8>, CryptoError> {
    let encryptor = age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_owned()));
    crate::encryption::seal(encryptor, plaintext)
}

/// Decrypts a passphrase-encrypted age file; a wrong passphrase is `NotARecipient`.
pub fn decrypt_with_passphrase(
    ciphertext: &[u8],
    passphrase: &str,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
    age::decrypt(&identity, ciphertext)
        .map(Zeroizing::new)
        .map_err(|error| match error {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                CryptoError::NotARecipient
            }
            _ => CryptoError::Decryption,
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Whether `text` is exactly `count` of `words` joined by `-`. Four words of the list
    /// hold a `-` themselves ("t-shirt", "yo-yo"), so a passphrase is not simply split.
    fn is_passphrase(text: &str, count: usize, words: &HashSet<&str>) -> bool {
        let ends = text
            .match_indices('-')
            .map(|(at, _)| at)
            .chain([text.len()]);
        ends.into_iter().any(|end| {
            words.contains(&text[..end])
                && match (end == text.len(), count) {
                    (true, 1) => true,
                    (false, count) if count > 1 => {
                        is_passphrase(&text[end + 1..], count - 1, words)
                    }
                    _ => false,
                }
        })
    }

    #[test]
    fn passphrases_are_words_and_differ() {
        let words: HashSet<&str> = WORDLIST.split('\n').collect();
        for _ in 0..2_000 {
            let one = generate_passphrase(PASSPHRASE_WORDS);
            let two = generate_passphrase(PASSPHRASE_WORDS);
            assert!(is_passphrase(&one, PASSPHRASE_WORDS, &words));
            assert_ne!(*one, *two);
        }
        assert!(is_passphrase("t-shirt-yo-yo-abacus", 3, &words));
        assert!(!is_passphrase("t-shirt-yo-yo-abacus", 4, &words));
        assert!(!is_passphrase("abacus-abacus", 3, &words));
        assert!(!is_passphrase("abacus-notaword", 2, &words));
    }

    #[test]
    fn the_wordlist_is_the_eff_large_list() {
        let words: Vec<&str> = WORDLIST.split('\n').collect();
        let eff: Vec<&str> = eff_wordlist::large::LIST
            .iter()
            .map(|(_, word)| *word)
            .collect();
        assert_eq!(words, eff);
        assert_eq!(words.len(), 7776);
        let passphrase = generate_passphrase(PASSPHRASE_WORDS);
        assert!(passphrase.split('-').all(|word| eff.contains(&word)));
    }

    #[test]
    fn only_the_right_passphrase_decrypts() {
        let ciphertext = encrypt_with_passphrase(b"bundle", "correct-horse").unwrap();
        assert_eq!(
            decrypt_with_passphrase(&ciphertext, "correct-horse")
                .unwrap()
                .as_slice(),
            b"bundle"
        );
        assert!(decrypt_with_passphrase(&ciphertext, "wrong-horse").is_err());
    }
}
