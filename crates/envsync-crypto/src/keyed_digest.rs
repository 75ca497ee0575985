//! Keyed digests: HMAC-SHA-256 under a key derived from the identity, so that a record of
//! what was published (kept where values cannot be read back, such as GitHub secrets) says
//! whether a value changed without holding anything that would let its reader test
//! guesses of the value. Without the identity, a digest is a random-looking string.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// A key for digests of one purpose. Holds a secret: no `Debug`, zeroized on drop.
pub struct KeyedDigest {
    key: Zeroizing<[u8; 32]>,
}

impl KeyedDigest {
    pub(crate) fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Self { key }
    }

    /// The digest of `parts`, each length-prefixed so that no two lists share a digest.
    pub fn digest(&self, parts: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            .expect("HMAC takes a key of any length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use crate::Identity;

    #[test]
    fn digests_depend_on_the_identity_and_every_part() {
        let (alice, bob) = (Identity::generate("a"), Identity::generate("b"));
        let digest = |who: &Identity, parts: &[&[u8]]| who.keyed_digest().digest(parts);
        let one = digest(&alice, &[b"github:a/b", b"KEY", b"value"]);
        assert_eq!(one, digest(&alice, &[b"github:a/b", b"KEY", b"value"]));
        assert_ne!(one, digest(&bob, &[b"github:a/b", b"KEY", b"value"]));
        assert_ne!(one, digest(&alice, &[b"github:a/b", b"KEY", b"valuf"]));
        assert_ne!(one, digest(&alice, &[b"github:a/b", b"KEYv", b"alue"]));
        assert_eq!(one.len(), 64);
    }
}
