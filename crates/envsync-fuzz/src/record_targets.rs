//! Targets for what arrives signed or sealed: version records, membership entries, age blobs.

use std::sync::OnceLock;

use envsync_core::records::{
    MembershipBody, MembershipEvent, Signable, Signed, Verifier, VersionBody, VersionRecord,
};
use envsync_crypto::{Identity, MemberKey, Signature, encrypt};
use serde_json::json;

/// Ed25519 through envsync-crypto, as the client verifies.
struct CryptoVerifier;

impl Verifier for CryptoVerifier {
    fn verify(&self, member_key: &str, message: &[u8], signature: &str) -> bool {
        let Ok(key) = member_key.parse::<MemberKey>() else {
            return false;
        };
        Signature::from_base64(signature)
            .is_ok_and(|signature| key.verify(message, &signature).is_ok())
    }
}

/// One identity per process: the invariants hold whatever the key.
fn identity() -> &'static Identity {
    static IDENTITY: OnceLock<Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| Identity::generate("fuzz"))
}

fn signed<T: Signable>(body: serde_json::Value) -> Signed<T> {
    let body: T = serde_json::from_value(body).expect("the template body is well formed");
    let signature = identity()
        .sign(&envsync_core::records::signed_bytes(&body))
        .to_base64();
    Signed { body, signature }
}

/// A version record signed by [`identity`], as `push` writes one.
fn version_record() -> &'static Vec<u8> {
    static RECORD: OnceLock<Vec<u8>> = OnceLock::new();
    RECORD.get_or_init(|| {
        let key = identity().member_key().as_str();
        let digest = "ab".repeat(32);
        let record: VersionRecord = signed(json!({
            "format": 1, "project": "api", "environment": "production", "number": 7,
            "base": 6, "parent_digest": digest, "membership": {"number": 2, "digest": digest},
            "author": key, "author_name": "Ada", "created_at": "2026-12-03T12:00:00Z",
            "message": "rotate", "keys": ["A", "B"],
            "changes": {"added": ["B"], "removed": [], "changed": ["A"]},
            "recipients": [key], "ciphertext_sha256": digest, "ciphertext_size": 321,
        }));
        record.to_json()
    })
}

/// A membership entry signed by [`identity`], as `members add` writes one.
fn membership_entry() -> &'static Vec<u8> {
    static ENTRY: OnceLock<Vec<u8>> = OnceLock::new();
    ENTRY.get_or_init(|| {
        let key = identity().member_key().as_str();
        let digest = "cd".repeat(32);
        let entry: MembershipEvent = signed(json!({
            "format": 1, "project": "api", "number": 3, "parent_digest": digest,
            "action": "add", "member": key, "name": "Bob", "role": "writer",
            "environments": ["production"], "heads": {"production": {"number": 7, "digest": digest}},
            "actor": key, "created_at": "2026-12-03T12:00:00Z",
        }));
        entry.to_json()
    })
}

/// The first byte picks a record kind; the rest is (offset, byte) pairs XORed into a record
/// the fuzzer's key really signed. Parsing and verifying never panic, and a record that still
/// verifies signs exactly the original content (only its layout may differ).
pub fn record(data: &[u8]) {
    let Some((&kind, edits)) = data.split_first() else {
        return;
    };
    if kind & 1 == 0 {
        check_mutated::<VersionBody>(version_record(), edits);
    } else {
        check_mutated::<MembershipBody>(membership_entry(), edits);
    }
}

fn check_mutated<T: Signable>(original: &[u8], edits: &[u8]) {
    let mut bytes = original.to_vec();
    for edit in edits.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
        bytes[at] ^= edit[2];
    }
    // Raw fuzzer bytes as a record, too: parsing and verifying arbitrary input never panics.
    for candidate in [&bytes[..], edits] {
        let Ok(record) = Signed::<T>::from_json(candidate, "record") else {
            continue;
        };
        if record.verify_signature(&CryptoVerifier, "record").is_ok() {
            let before = Signed::<T>::from_json(original, "record").expect("the original parses");
            assert!(
                record.signed_bytes() == before.signed_bytes(),
                "a mutated record verified"
            );
        }
    }
}

/// Opening an age blob never panics, whatever the bytes; a blob sealed to the key opens to
/// exactly what was sealed.
pub fn age_blob(data: &[u8]) {
    let identity = identity();
    let _ = identity.decrypt(data);
    if data.len() <= 4096 {
        let sealed = encrypt(data, &[identity.member_key().clone()]).expect("encryption works");
        let opened = identity
            .decrypt(&sealed)
            .expect("a blob sealed to the key opens");
        assert!(
            opened.as_slice() == data,
            "the blob opened to different bytes"
        );
    }
}
