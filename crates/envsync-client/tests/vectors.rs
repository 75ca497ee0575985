//! Test vectors for every signed structure: the body, the exact bytes signed, the digest
//! that chains the next record to it, the Ed25519 signature by a fixed test key, and the
//! signed record's JSON document as the CLI writes it.
//! Signatures are deterministic, so a change to a format, a field order or the signed
//! bytes fails here instead of slipping in unnoticed. After an intended change, regenerate
//! with `ENVSYNC_WRITE_VECTORS=1 cargo test -p envsync-client --test vectors` and review.

use envsync_client::records::{
    AccessRequestBody, InviteBody, JoinProofBody, MembershipBody, PublicationBody, Seal, Signable,
    Signed, VersionBody, signed_bytes,
};
use envsync_core::hash::sha256_hex;
use envsync_crypto::Identity;
use serde_json::{Value, json};

/// A key made for these vectors only; it protects nothing.
const TEST_KEY: &str = "AGE-SECRET-KEY-1YGN2QP89W58WWMQ6GTCWD6QW4HDYEL2JFZDE5L5CJ8HMATQ7G6ZSZQELVS";
const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/signed-records.json"
);

fn identity() -> Identity {
    Identity::parse(TEST_KEY, "vector").unwrap()
}

fn bodies(key: &str) -> Vec<(&'static str, Value)> {
    let pin =
        |number: u64, fill: char| json!({"number": number, "digest": fill.to_string().repeat(64)});
    vec![
        (
            "version",
            json!({
                "format": 2, "project": "app", "environment": "development", "number": 2,
                "base": 1, "parent_digest": "a".repeat(64), "membership": pin(1, 'b'),
                "author": key, "author_name": "vector", "created_at": "2026-12-01T00:00:00Z",
                "message": "rotate", "keys": ["API_KEY"],
                "changes": {"added": [], "removed": [], "changed": ["API_KEY"]},
                "recipients": [key], "ciphertext_sha256": "c".repeat(64), "ciphertext_size": 321,
            }),
        ),
        (
            "membership",
            json!({
                "format": 2, "project": "app", "number": 2, "parent_digest": "d".repeat(64),
                "action": "remove", "member": key, "name": "vector", "role": "writer",
                "environments": ["staging"], "heads": {"staging": pin(7, 'e')},
                "actor": key, "created_at": "2026-12-01T00:00:00Z",
            }),
        ),
        (
            "access request",
            json!({
                "format": 2, "project": "app", "member": key, "name": "vector", "after": 3,
                "invite": "f".repeat(64), "created_at": "2026-12-01T00:00:00Z",
                "expires_at": 1_800_000_000,
            }),
        ),
        (
            "invite",
            json!({
                "format": 2, "project": "app", "code_sha256": "1".repeat(64), "role": "reader",
                "environments": ["staging"], "created_by": key,
                "created_at": "2026-12-01T00:00:00Z", "expires_at": 1_800_000_000,
            }),
        ),
        (
            "join",
            json!({
                "format": 2, "member_key": key, "name": "vector", "code_sha256": "2".repeat(64),
            }),
        ),
        (
            "publication",
            json!({
                "format": 2, "project": "app", "environment": "production", "number": 3,
                "version": pin(12, '3'), "membership": pin(4, '4'),
                "target": "aws-sm://app/production", "keys": ["API_KEY", "DB_URL"],
                "pruned": false, "publisher": key, "published_at": "2026-12-01T00:00:00Z",
            }),
        ),
    ]
}

/// The vector for one body: signed bytes, digest and signature, computed by the real types.
fn vector<T: Signable>(body: &Value, identity: &Identity) -> Value {
    let body: T = serde_json::from_value(body.clone()).expect("the body parses as its type");
    let record = Signed::sign(body.clone(), identity);
    record
        .verified_signer()
        .expect("a fresh signature verifies");
    let bytes = signed_bytes(&body);
    // The whole signed record as the CLI writes and sends it: the dashboard's signed
    // invites must be these very bytes.
    let document = String::from_utf8(record.to_json()).unwrap();
    json!({
        "signed_bytes": String::from_utf8(bytes.clone()).unwrap(),
        "digest": sha256_hex(&bytes),
        "signature": record.signature,
        "document": document,
    })
}

fn computed() -> Value {
    let identity = identity();
    let key = identity.member_key().to_string();
    let mut all = serde_json::Map::new();
    for (domain, body) in bodies(&key) {
        let out = match domain {
            "version" => vector::<VersionBody>(&body, &identity),
            "membership" => vector::<MembershipBody>(&body, &identity),
            "access request" => vector::<AccessRequestBody>(&body, &identity),
            "invite" => vector::<InviteBody>(&body, &identity),
            "publication" => vector::<PublicationBody>(&body, &identity),
            _ => vector::<JoinProofBody>(&body, &identity),
        };
        all.insert(domain.to_owned(), json!({"body": body, "expected": out}));
    }
    Value::Object(all)
}

#[test]
fn every_signed_structure_matches_its_committed_vector() {
    let computed = computed();
    if std::env::var_os("ENVSYNC_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
        std::fs::write(VECTORS, text).unwrap();
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let domains = [
        "version",
        "membership",
        "access request",
        "invite",
        "join",
        "publication",
    ];
    for domain in domains {
        assert_eq!(
            committed[domain], computed[domain],
            "the `{domain}` vector changed"
        );
    }
}

#[test]
fn a_changed_byte_breaks_the_committed_signature() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let vector = &committed["version"];
    let mut body: VersionBody = serde_json::from_value(vector["body"].clone()).unwrap();
    body.ciphertext_size += 1;
    let tampered = Signed {
        body,
        signature: vector["expected"]["signature"].as_str().unwrap().to_owned(),
    };
    assert!(tampered.verified_signer().is_err());
}

#[test]
fn a_publication_verifies_only_as_signed_by_its_publisher() {
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let vector = &committed["publication"];
    let body: PublicationBody = serde_json::from_value(vector["body"].clone()).unwrap();
    let signature = vector["expected"]["signature"].as_str().unwrap().to_owned();
    let signed = |body: PublicationBody, signature: &str| Signed {
        body,
        signature: signature.to_owned(),
    };
    assert!(signed(body.clone(), &signature).verified_signer().is_ok());

    // Moved to another target or version, or unsigned: refused.
    let mut elsewhere = body.clone();
    elsewhere.target = "aws-sm://app/staging".into();
    assert!(signed(elsewhere, &signature).verified_signer().is_err());
    let mut older = body.clone();
    older.version.number = 11;
    assert!(signed(older, &signature).verified_signer().is_err());
    assert!(signed(body.clone(), "").verified_signer().is_err());

    // Signed by someone else than the publisher it names: refused.
    let other = Identity::generate("mallory");
    let forged = Signed::sign(body.clone(), &other);
    assert!(forged.verified_signer().is_err());

    // Another record's signature over the same key cannot pass as a publication's: the
    // domain tag differs.
    let version = &committed["version"];
    let version_signature = version["expected"]["signature"].as_str().unwrap();
    assert!(signed(body, version_signature).verified_signer().is_err());
}
