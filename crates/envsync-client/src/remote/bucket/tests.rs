//! The bucket remote on `object_store`'s in-memory store: key layout, create-only
//! versions, the head hint and access requests. The same code against a real S3 server is
//! exercised by `crates/envsync/tests/s3.rs` and `every_remote.rs`.

use crate::environment_ref::EnvironmentRef;
use std::sync::Arc;

use envsync_core::role::Role;
use envsync_crypto::Identity;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::BucketRemote;
use crate::records::{
    AccessRequestBody, ChangeSummary, FORMAT, MembershipAction, MembershipBody, Seal, Signed,
    VersionBody, VersionRecord, now_rfc3339,
};
use crate::remote::Remote;

fn remote() -> (BucketRemote, Arc<InMemory>) {
    let store = Arc::new(InMemory::new());
    let remote = BucketRemote::with_store(
        store.clone(),
        Path::from("team/envsync"),
        "s3://bucket/team/envsync".into(),
        None,
    )
    .unwrap();
    (remote, store)
}

fn record(number: u64, ciphertext: &[u8]) -> VersionRecord {
    Signed {
        body: VersionBody {
            format: FORMAT,
            project: "app".into(),
            environment: "dev".into(),
            number,
            base: number.checked_sub(1).filter(|base| *base > 0),
            parent_digest: None,
            membership: crate::records::Pin {
                number: 1,
                digest: "ef".repeat(32),
            },
            author: "author".into(),
            author_name: "alice".into(),
            created_at: now_rfc3339(),
            message: String::new(),
            keys: vec![],
            changes: ChangeSummary::default(),
            recipients: vec![],
            ciphertext_sha256: envsync_core::hash::sha256_hex(ciphertext),
            ciphertext_size: ciphertext.len() as u64,
            dismissed: Vec::new(),
        },
        signature: String::new(),
    }
}

fn keys(store: &InMemory) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let listing = runtime
        .block_on(store.list_with_delimiter(Some(&Path::from("team/envsync/app/environments/dev"))))
        .unwrap();
    let mut keys: Vec<String> = listing
        .objects
        .iter()
        .map(|object| object.location.to_string())
        .chain(listing.common_prefixes.iter().map(ToString::to_string))
        .collect();
    keys.sort();
    keys
}

#[test]
fn versions_are_created_once_under_the_folder_layout() {
    let (remote, store) = remote();
    assert_eq!(
        remote.head(&EnvironmentRef::new("app", "dev")).unwrap(),
        None
    );
    assert!(remote.create_version(&record(1, b"one"), b"one").unwrap());
    assert!(
        !remote
            .create_version(&record(1, b"other"), b"other")
            .unwrap(),
        "a second create of version 1 loses"
    );
    assert_eq!(
        remote
            .version(&EnvironmentRef::new("app", "dev"), 1)
            .unwrap()
            .body
            .ciphertext_sha256,
        envsync_core::hash::sha256_hex(b"one")
    );
    assert!(remote.create_version(&record(2, b"two"), b"two").unwrap());
    assert_eq!(
        remote.head(&EnvironmentRef::new("app", "dev")).unwrap(),
        Some(2)
    );
    let sha = envsync_core::hash::sha256_hex(b"two");
    assert_eq!(
        remote
            .ciphertext(&EnvironmentRef::new("app", "dev"), &sha)
            .unwrap(),
        b"two"
    );
    assert_eq!(
        keys(&store),
        [
            "team/envsync/app/environments/dev/head",
            "team/envsync/app/environments/dev/objects",
            "team/envsync/app/environments/dev/versions",
        ]
    );
}

#[test]
fn a_forged_or_lost_hint_does_not_change_the_head() {
    let (remote, store) = remote();
    for number in 1..=5 {
        let content = format!("v{number}");
        assert!(
            remote
                .create_version(&record(number, content.as_bytes()), content.as_bytes())
                .unwrap()
        );
    }
    let hint = Path::from("team/envsync/app/environments/dev/head");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for forged in ["1000000\n", "2\n", "garbage", ""] {
        runtime
            .block_on(store.put(&hint, PutPayload::from(forged.as_bytes().to_vec())))
            .unwrap();
        assert_eq!(
            remote.head(&EnvironmentRef::new("app", "dev")).unwrap(),
            Some(5),
            "hint {forged:?}"
        );
    }
    runtime.block_on(store.delete(&hint)).unwrap();
    assert_eq!(
        remote.head(&EnvironmentRef::new("app", "dev")).unwrap(),
        Some(5)
    );
}

#[test]
fn missing_records_and_bad_digests_are_integrity_errors() {
    let (remote, _) = remote();
    let missing = remote
        .version(&EnvironmentRef::new("app", "dev"), 3)
        .unwrap_err();
    assert!(
        matches!(missing, crate::ClientError::Integrity(_)),
        "{missing}"
    );
    let malformed = remote
        .ciphertext(&EnvironmentRef::new("app", "dev"), "../../etc")
        .unwrap_err();
    assert!(
        matches!(malformed, crate::ClientError::Integrity(_)),
        "{malformed}"
    );
}

#[test]
fn membership_is_an_append_only_numbered_log() {
    let (remote, _) = remote();
    let identity = Identity::generate("alice");
    let event = |number| {
        Signed::sign(
            MembershipBody {
                format: FORMAT,
                project: "app".into(),
                number,
                parent_digest: None,
                action: MembershipAction::Add,
                member: identity.member_key().to_string(),
                name: format!("member {number}"),
                role: Role::Owner,
                environments: None,
                heads: Default::default(),
                actor: identity.member_key().to_string(),
                created_at: now_rfc3339(),
            },
            &identity,
        )
    };
    for number in [2, 1, 10] {
        assert!(remote.append_membership(&event(number)).unwrap());
    }
    assert!(!remote.append_membership(&event(2)).unwrap());
    let numbers: Vec<u64> = remote
        .membership("app")
        .unwrap()
        .iter()
        .map(|event| event.body.number)
        .collect();
    assert_eq!(numbers, [1, 2, 10]);
    // Read by number from the entry asked for up to the first missing one; the entry past
    // the gap is the whole-log read's to meet.
    let from = |first| -> Vec<u64> {
        let events = remote.membership_from("app", first).unwrap();
        events.iter().map(|event| event.body.number).collect()
    };
    assert_eq!(from(1), [1, 2]);
    assert_eq!(from(2), [2]);
    assert_eq!(from(0), [1, 2]);
    assert_eq!(from(10), [10]);
    assert!(from(3).is_empty() && from(11).is_empty());
}

#[test]
fn access_requests_are_listed_and_deleted() {
    let (remote, _) = remote();
    let identity = Identity::generate("bob");
    let request = Signed::sign(
        AccessRequestBody {
            format: FORMAT,
            project: "app".into(),
            member: identity.member_key().to_string(),
            name: "bob".into(),
            after: 0,
            invite: None,
            created_at: now_rfc3339(),
            expires_at: i64::MAX,
        },
        &identity,
    );
    remote.put_access_request(&request).unwrap();
    let listed = remote.access_requests("app").unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].body.name, "bob");
    let fingerprint = identity.member_key().fingerprint();
    remote.delete_access_request("app", &fingerprint).unwrap();
    remote.delete_access_request("app", &fingerprint).unwrap();
    assert!(remote.access_requests("app").unwrap().is_empty());
}
