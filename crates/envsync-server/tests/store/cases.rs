//! The cases every store must pass, whatever the database.

use envsync_core::role::Role;
use envsync_server::store::{
    AuditFilter, Created, FAILURE_WINDOW_SECONDS, InviteRow, MAX_FAILURES, NewAuditEntry, NewToken,
    NewVersion, ReadRequest, Revocation,
};
use sqlx::{AnyPool, Row};

use super::TestDatabase;

fn version<'a>(number: u64, record: &'a [u8], ciphertext: &'a [u8]) -> NewVersion<'a> {
    NewVersion {
        project: "ranking-be",
        environment: "production",
        number,
        base: number.checked_sub(1).filter(|base| *base > 0),
        author_key: "envsync1-author",
        record_json: record,
        // Each test ciphertext is its own digest: distinct ciphertexts, distinct names.
        ciphertext_sha256: std::str::from_utf8(ciphertext).unwrap(),
        ciphertext,
    }
}

/// A push's audit entry, written in the version's own transaction.
const PUSHED: NewAuditEntry<'static> = NewAuditEntry {
    actor: "ada",
    action: "version.push",
    project: Some("ranking-be"),
    target: "production",
    source_address: None,
    at: 1_700_000_000,
};

pub async fn versions_are_append_only(db: TestDatabase) {
    let store = &db.store;
    assert_eq!(store.head("ranking-be", "production").await.unwrap(), None);
    assert_eq!(
        store
            .create_version(&version(2, b"{}", b"age"), &PUSHED)
            .await
            .unwrap(),
        Created::Conflict { head: None },
        "a first push must be number 1"
    );
    assert_eq!(
        store
            .create_version(&version(1, b"{\"n\":1}", b"age1"), &PUSHED)
            .await
            .unwrap(),
        Created::Created
    );
    assert_eq!(
        store
            .create_version(&version(1, b"{\"n\":\"x\"}", b"forged"), &PUSHED)
            .await
            .unwrap(),
        Created::Conflict { head: Some(1) },
        "an existing number is never replaced"
    );
    assert_eq!(
        store
            .create_version(&version(3, b"{}", b"gap"), &PUSHED)
            .await
            .unwrap(),
        Created::Conflict { head: Some(1) },
        "history has no gaps"
    );
    assert_eq!(
        store
            .create_version(&version(2, b"{\"n\":2}", b"age2"), &PUSHED)
            .await
            .unwrap(),
        Created::Created
    );
    for _ in 0..2 {
        let record = store
            .version_record("ranking-be", "production", 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&record[..], b"{\"n\":1}");
    }
    assert_eq!(
        store
            .version_record("ranking-be", "production", 3)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.head("ranking-be", "staging").await.unwrap(), None);
    let page = store
        .list_versions("ranking-be", "production", 1, 10)
        .await
        .unwrap();
    assert_eq!(page, vec![(2, b"{\"n\":2}".to_vec())]);
    // One audit entry per version created, none for a push refused as a conflict.
    let pushes = AuditFilter {
        action: Some("version.push"),
        limit: 100,
        ..AuditFilter::default()
    };
    assert_eq!(store.audit(&pushes).await.unwrap().len(), 2);
    for (sha, expected) in [
        ("age1", Some(&b"age1"[..])),
        ("age2", Some(b"age2")),
        ("age9", None),
    ] {
        for _ in 0..2 {
            let ciphertext = store
                .ciphertext("ranking-be", "production", sha)
                .await
                .unwrap();
            assert_eq!(ciphertext.as_deref(), expected, "{sha}");
        }
    }
}

/// Every environment's head with its record, in one statement: the highest number of each
/// environment of the project (none of another project's, none of a lower number), sorted,
/// and a new push is in the next answer.
pub async fn heads_with_records_of_a_project(db: TestDatabase) {
    let store = &db.store;
    assert!(
        store
            .heads_with_records("ranking-be")
            .await
            .unwrap()
            .is_empty()
    );
    let pushes = [
        ("ranking-be", "staging", 1),
        ("ranking-be", "production", 1),
        ("ranking-be", "staging", 2),
        ("ranking-be", "staging", 3),
        ("ranking-be-2", "development", 1),
        ("ranking", "a", 1),
    ];
    for (project, environment, number) in pushes {
        let record = format!("{{\"{environment}\":{number}}}");
        let ciphertext = format!("{project}-{environment}-{number}");
        let pushed = NewVersion {
            project,
            environment,
            ..version(number, record.as_bytes(), ciphertext.as_bytes())
        };
        assert_eq!(
            store.create_version(&pushed, &PUSHED).await.unwrap(),
            Created::Created
        );
    }
    let heads = |list: Vec<(String, u64, Vec<u8>)>| {
        list.into_iter()
            .map(|(environment, number, record)| {
                (environment, number, String::from_utf8(record).unwrap())
            })
            .collect::<Vec<_>>()
    };
    let expected = vec![
        ("production".to_owned(), 1, r#"{"production":1}"#.to_owned()),
        ("staging".to_owned(), 3, r#"{"staging":3}"#.to_owned()),
    ];
    assert_eq!(
        heads(store.heads_with_records("ranking-be").await.unwrap()),
        expected
    );
    let next = version(2, br#"{"production":2}"#, b"ranking-be-production-2");
    assert_eq!(
        store.create_version(&next, &PUSHED).await.unwrap(),
        Created::Created
    );
    let moved = heads(store.heads_with_records("ranking-be").await.unwrap());
    assert_eq!(
        moved[0],
        ("production".to_owned(), 2, r#"{"production":2}"#.to_owned())
    );
    assert!(
        store
            .heads_with_records("nothing")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Twenty pushes on one base, split over `stores`: exactly one wins, the rest conflict, and
/// history ends at the base plus one.
async fn race(stores: &[envsync_server::store::Store]) {
    let base = &stores[0];
    assert_eq!(
        base.create_version(&version(1, b"{}", b"v1"), &PUSHED)
            .await
            .unwrap(),
        Created::Created
    );
    let mut tasks = Vec::new();
    for attempt in 0..20_usize {
        let store = stores[attempt % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            let record = format!("{{\"attempt\":{attempt}}}").into_bytes();
            store
                .create_version(&version(2, &record, b"v2"), &PUSHED)
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Created::Created => created += 1,
            Created::Conflict { head } => assert_eq!(head, Some(2)),
        }
    }
    assert_eq!(created, 1, "exactly one of 20 concurrent pushes wins");
    assert_eq!(
        base.head("ranking-be", "production").await.unwrap(),
        Some(2)
    );
    let all = base
        .list_versions("ranking-be", "production", 0, 100)
        .await
        .unwrap();
    let numbers: Vec<u64> = all.iter().map(|(number, _)| *number).collect();
    assert_eq!(numbers, vec![1, 2]);
}

pub async fn concurrent_pushes_on_one_base(db: TestDatabase) {
    race(std::slice::from_ref(&db.store)).await;
}

pub async fn concurrent_pushes_across_replicas(db: TestDatabase) {
    let replica = db.replica().await;
    race(&[db.store.clone(), replica]).await;
}

pub async fn membership_is_create_only(db: TestDatabase) {
    let store = &db.store;
    assert!(store.membership("p").await.unwrap().is_empty());
    assert!(store.append_membership("p", 1, b"first").await.unwrap());
    assert!(!store.append_membership("p", 1, b"forged").await.unwrap());
    assert!(store.append_membership("p", 2, b"second").await.unwrap());
    assert!(
        store
            .append_membership("other", 1, b"elsewhere")
            .await
            .unwrap()
    );
    assert_eq!(
        store.membership("p").await.unwrap(),
        vec![b"first".to_vec(), b"second".to_vec()]
    );
}

pub async fn access_requests_upsert_and_delete(db: TestDatabase) {
    let store = &db.store;
    store.put_access_request("p", "fp-b", b"b1").await.unwrap();
    store.put_access_request("p", "fp-a", b"a1").await.unwrap();
    store.put_access_request("p", "fp-b", b"b2").await.unwrap();
    assert_eq!(
        store.access_requests("p").await.unwrap(),
        vec![
            ("fp-a".to_owned(), b"a1".to_vec()),
            ("fp-b".to_owned(), b"b2".to_vec())
        ]
    );
    assert!(store.delete_access_request("p", "fp-a").await.unwrap());
    assert!(!store.delete_access_request("p", "fp-a").await.unwrap());
    assert!(store.access_requests("other").await.unwrap().is_empty());
    assert_eq!(store.access_requests("p").await.unwrap().len(), 1);
}

pub async fn tokens_create_lookup_revoke(db: TestDatabase) {
    let store = &db.store;
    let ci = NewToken {
        token_hash: "hash-ci",
        id: "id-ci",
        label: "github",
        kind: envsync_api::TokenKind::Ci,
        account: "ci-1",
        project: Some("p"),
        environment: Some("staging"),
        created_at: 1,
        expires_at: Some(1_000),
    };
    store.create_token(&ci).await.unwrap();
    let person = NewToken {
        token_hash: "hash-ada",
        id: "id-ada",
        label: "laptop",
        kind: envsync_api::TokenKind::Personal,
        account: "ada",
        project: None,
        environment: None,
        created_at: 2,
        expires_at: None,
    };
    store.create_token(&person).await.unwrap();
    assert!(store.create_token(&ci).await.is_err(), "hashes are unique");
    assert!(
        store
            .create_token(&NewToken {
                token_hash: "other",
                ..ci
            })
            .await
            .is_err(),
        "ids are unique"
    );

    let (hash, found) = store.live_token("id-ci", 999).await.unwrap().unwrap();
    assert_eq!(hash, "hash-ci");
    assert_eq!(found.environment.as_deref(), Some("staging"));
    assert_eq!(
        store.live_token("id-ci", 1_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.live_token("nope", 0).await.unwrap(), None);
    assert!(store.revoke_token("id-ada", 5).await.unwrap());
    assert!(!store.revoke_token("id-ada", 6).await.unwrap());
    assert_eq!(
        store.live_token("id-ada", 5).await.unwrap(),
        None,
        "revoked"
    );
    let visible = store
        .tokens_visible_to("ada", &["p".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        visible.len(),
        2,
        "own tokens and the owned project's CI tokens"
    );
    assert_eq!(visible[1].revoked_at, Some(5));
    assert_eq!(store.revoke_ci_tokens("ci-1", "p", 7).await.unwrap(), 1);
    assert_eq!(store.live_token("id-ci", 8).await.unwrap(), None);
}

pub async fn accounts_grants_and_invites(db: TestDatabase) {
    let store = &db.store;
    assert!(!store.has_admin().await.unwrap());
    store
        .create_account("ada-1", "Ada", "age1ada:sig", true, 1)
        .await
        .unwrap();
    assert!(
        store
            .create_account("ada-2", "Ada", "age1ada:sig", false, 1)
            .await
            .is_err(),
        "one account per member key"
    );
    assert!(store.has_admin().await.unwrap());
    let ada = store
        .account_by_member_key("age1ada:sig")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ada.id.as_str(), ada.admin), ("ada-1", true));

    store
        .set_grant("ada-1", "p", Role::Owner, None)
        .await
        .unwrap();
    let staging = ["staging".to_owned()];
    store
        .set_grant("ada-1", "p", Role::Reader, Some(&staging))
        .await
        .unwrap();
    let grant = store.grant("ada-1", "p").await.unwrap().unwrap();
    assert_eq!(grant.role, Role::Reader);
    assert_eq!(grant.environments.as_deref(), Some(&staging[..]));
    assert_eq!(store.grants("ada-1").await.unwrap().len(), 1);
    let on_project = store.project_grants("p").await.unwrap();
    assert_eq!(on_project.len(), 1);
    assert_eq!(on_project[0].0.member_key.as_deref(), Some("age1ada:sig"));
    assert_eq!(on_project[0].1.role, Role::Reader);
    assert!(store.delete_grant("ada-1", "p").await.unwrap());
    assert_eq!(store.grant("ada-1", "p").await.unwrap(), None);

    let invite = InviteRow {
        code_hash: "code",
        project: "p",
        role: Role::Writer,
        environments: None,
        created_by: "ada-1",
        created_at: 1,
        expires_at: 100,
        signed_json: "{}",
    };
    store.create_invite(&invite).await.unwrap();
    store
        .create_invite(&InviteRow {
            code_hash: "old",
            expires_at: 10,
            ..invite
        })
        .await
        .unwrap();
    assert_eq!(
        store.redeem_invite("old", "bob-1", 10).await.unwrap(),
        None,
        "expired"
    );
    let (first, second) = tokio::join!(
        store.redeem_invite("code", "bob-1", 50),
        db.replica_redeem("code", "eve-1", 50)
    );
    let winners = [first.unwrap(), second]
        .iter()
        .filter(|grant| grant.is_some())
        .count();
    assert_eq!(winners, 1, "an invite is used once");

    // Two starts (two replicas) each add a code; neither invalidates the other, and the
    // first one used ends both.
    store.add_setup_code("setup-1", 1).await.unwrap();
    db.replica()
        .await
        .add_setup_code("setup-2", 2)
        .await
        .unwrap();
    assert!(!store.take_setup_code("wrong").await.unwrap());
    assert!(
        store.take_setup_code("setup-1").await.unwrap(),
        "still valid"
    );
    assert!(!store.take_setup_code("setup-1").await.unwrap(), "one-time");
    assert!(
        !store.take_setup_code("setup-2").await.unwrap(),
        "an owner exists now"
    );
}

/// Owners list every invite with what became of it, and revoke one that nobody redeemed:
/// its code no longer redeems. A redeemed or revoked invite is not revoked (again), and of
/// a join and a revocation racing on one code exactly one wins.
pub async fn invites_list_and_revoke(db: TestDatabase) {
    let store = &db.store;
    let staging = ["staging".to_owned()];
    let invite = InviteRow {
        code_hash: "open",
        project: "p",
        role: Role::Reader,
        environments: Some(&staging),
        created_by: "ada-1",
        created_at: 1,
        expires_at: 100,
        signed_json: "{}",
    };
    store.create_invite(&invite).await.unwrap();
    for (code_hash, created_at) in [("used", 2), ("racing", 3)] {
        store
            .create_invite(&InviteRow {
                code_hash,
                created_at,
                environments: None,
                ..invite
            })
            .await
            .unwrap();
    }
    store
        .create_invite(&InviteRow {
            project: "q",
            code_hash: "elsewhere",
            ..invite
        })
        .await
        .unwrap();
    assert!(
        store
            .redeem_invite("used", "bob-1", 5)
            .await
            .unwrap()
            .is_some()
    );

    let database = &db;
    let revoke = |project: &'static str, code: &'static str, at: i64| async move {
        let mut transaction = database.store.begin().await.unwrap();
        let outcome = transaction
            .revoke_invite(project, code, "ada-1", at)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        outcome
    };
    assert_eq!(revoke("p", "open", 6).await, Revocation::Revoked);
    assert_eq!(revoke("p", "open", 7).await, Revocation::AlreadyRevoked(6));
    assert_eq!(
        revoke("p", "used", 7).await,
        Revocation::Redeemed("bob-1".into())
    );
    assert_eq!(
        revoke("p", "elsewhere", 7).await,
        Revocation::NotFound,
        "another project's"
    );
    assert_eq!(revoke("p", "nothing", 7).await, Revocation::NotFound);
    assert_eq!(
        store.redeem_invite("open", "eve-1", 8).await.unwrap(),
        None,
        "revoked"
    );
    assert!(store.invite_revoked("open").await.unwrap());
    assert!(!store.invite_revoked("used").await.unwrap());

    let listed = store.project_invites("p").await.unwrap();
    let summary: Vec<_> = listed
        .iter()
        .map(|invite| {
            (
                invite.code_sha256.as_str(),
                invite.redeemed_by.as_deref(),
                invite.revoked_at,
                invite.revoked_by.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("racing", None, None, None),
            ("used", Some("bob-1"), None, None),
            ("open", None, Some(6), Some("ada-1")),
        ],
        "newest first, only project p's"
    );
    let open = &listed[2];
    assert_eq!(
        (open.role, open.created_at, open.expires_at),
        (Role::Reader, 1, 100)
    );
    assert_eq!(open.environments.as_deref(), Some(&staging[..]));
    assert_eq!(open.created_by, "ada-1");

    let (revoked, redeemed) = tokio::join!(
        revoke("p", "racing", 9),
        db.replica_redeem("racing", "eve-1", 9)
    );
    assert_ne!(
        revoked == Revocation::Revoked,
        redeemed.is_some(),
        "a join and a revocation on one code: exactly one wins"
    );
}

/// A plain connection to the test database, for changing rows behind the store's back.
async fn raw_pool(db: &TestDatabase) -> AnyPool {
    sqlx::any::install_default_drivers();
    let raw_url = match db.store.backend() {
        envsync_server::store::Backend::Sqlite => format!("sqlite://{}", db.url),
        envsync_server::store::Backend::Postgres => db.url.clone(),
    };
    AnyPool::connect(&raw_url).await.unwrap()
}

pub async fn corrupt_grants_are_errors(db: TestDatabase) {
    let store = &db.store;
    store
        .create_account("ada-1", "Ada", "age1ada:sig", false, 1)
        .await
        .unwrap();
    let staging = ["staging".to_owned()];
    for project in ["p", "q"] {
        store
            .set_grant("ada-1", project, Role::Reader, Some(&staging))
            .await
            .unwrap();
    }
    let pool = raw_pool(&db).await;
    for sql in [
        "UPDATE grants SET environments = 'not json' WHERE project = 'p'",
        "UPDATE grants SET role = 'superuser' WHERE project = 'q'",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    for project in ["p", "q"] {
        let error = store.grant("ada-1", project).await.unwrap_err();
        assert!(error.is_corrupt(), "{project}: {error}");
    }
    assert!(store.grants("ada-1").await.unwrap_err().is_corrupt());
    assert!(store.project_grants("p").await.unwrap_err().is_corrupt());
}

/// A token whose kind is not one is refused wherever it is read: read as a personal token,
/// a CI token would act for a whole account.
pub async fn corrupt_token_kinds_are_errors(db: TestDatabase) {
    let store = &db.store;
    store
        .create_account("ci-1", "CI", "age1ci:sig", false, 1)
        .await
        .unwrap();
    store
        .create_token(&NewToken {
            token_hash: "hash-ci",
            id: "id-ci",
            label: "github",
            kind: envsync_api::TokenKind::Ci,
            account: "ci-1",
            project: Some("p"),
            environment: Some("staging"),
            created_at: 1,
            expires_at: None,
        })
        .await
        .unwrap();
    let token = store.token_by_id("id-ci").await.unwrap().unwrap();
    assert_eq!(token.kind, envsync_api::TokenKind::Ci);
    let pool = raw_pool(&db).await;
    sqlx::query("UPDATE tokens SET kind = 'admin' WHERE id = 'id-ci'")
        .execute(&pool)
        .await
        .unwrap();
    let error = store.authenticate("id-ci", 2).await.unwrap_err();
    assert!(error.is_corrupt(), "{error}");
    assert!(error.to_string().contains("token kind"), "{error}");
    assert!(store.token_by_id("id-ci").await.unwrap_err().is_corrupt());
    assert!(store.live_token("id-ci", 2).await.unwrap_err().is_corrupt());
    let visible = store.tokens_visible_to("ci-1", &[]).await;
    assert!(visible.unwrap_err().is_corrupt());
}

pub async fn transactions_commit_all_or_nothing(db: TestDatabase) {
    let store = &db.store;
    {
        let mut transaction = store.begin().await.unwrap();
        transaction
            .create_account("bob-1", "Bob", "age1bob:sig", false, 1)
            .await
            .unwrap();
        transaction
            .set_grant("bob-1", "p", Role::Writer, None)
            .await
            .unwrap();
        // Dropped without a commit: a failure midway.
    }
    assert_eq!(store.account("bob-1").await.unwrap(), None);
    assert_eq!(store.grant("bob-1", "p").await.unwrap(), None);
    let mut transaction = store.begin().await.unwrap();
    transaction
        .create_account("bob-1", "Bob", "age1bob:sig", false, 1)
        .await
        .unwrap();
    transaction
        .set_grant("bob-1", "p", Role::Writer, None)
        .await
        .unwrap();
    transaction.commit().await.unwrap();
    assert!(store.account("bob-1").await.unwrap().is_some());
    assert_eq!(
        store.grant("bob-1", "p").await.unwrap().unwrap().role,
        Role::Writer
    );
}

pub async fn sign_in_failures_are_shared_and_expire(db: TestDatabase) {
    let store = &db.store;
    let replica = db.replica().await;
    let now = 1_700_000_000;
    for attempt in 0..MAX_FAILURES {
        assert!(!replica.sign_in_blocked("10.0.0.1", now).await.unwrap());
        let counting = if attempt % 2 == 0 { store } else { &replica };
        counting
            .record_sign_in_failure("10.0.0.1", now + 1)
            .await
            .unwrap();
    }
    assert!(store.sign_in_blocked("10.0.0.1", now + 2).await.unwrap());
    assert!(replica.sign_in_blocked("10.0.0.1", now + 2).await.unwrap());
    assert!(!store.sign_in_blocked("10.0.0.2", now + 2).await.unwrap());
    let later = now + 1 + FAILURE_WINDOW_SECONDS;
    assert!(
        !store.sign_in_blocked("10.0.0.1", later).await.unwrap(),
        "expired"
    );
    store
        .record_sign_in_failure("10.0.0.1", later)
        .await
        .unwrap();
    assert!(
        !store.sign_in_blocked("10.0.0.1", later).await.unwrap(),
        "a new window"
    );
}

pub async fn audit_pages_and_filters(db: TestDatabase) {
    let store = &db.store;
    for index in 0..7 {
        let entry = NewAuditEntry {
            actor: if index % 2 == 0 { "ada" } else { "ci" },
            action: "push",
            project: if index < 6 { Some("p") } else { None },
            target: "production",
            source_address: Some("127.0.0.1"),
            at: 1_700_000_000 + index,
        };
        store.append_audit(&entry).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut filter = AuditFilter {
        project: Some("p"),
        limit: 4,
        ..AuditFilter::default()
    };
    loop {
        let page = store.audit(&filter).await.unwrap();
        let Some(last) = page.last() else { break };
        filter.after_id = last.id;
        seen.extend(page);
    }
    assert_eq!(seen.len(), 6, "pages neither skip nor repeat");
    assert!(seen.windows(2).all(|pair| pair[0].id < pair[1].id));
    let by_actor = AuditFilter {
        actor: Some("ci"),
        limit: 100,
        ..AuditFilter::default()
    };
    assert_eq!(store.audit(&by_actor).await.unwrap().len(), 3);
    let everything = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    assert_eq!(store.audit(&everything).await.unwrap().len(), 7);
    let other = AuditFilter {
        action: Some("pull"),
        limit: 100,
        ..AuditFilter::default()
    };
    assert!(store.audit(&other).await.unwrap().is_empty());
    let window = AuditFilter {
        since: Some(1_700_000_002),
        until: Some(1_700_000_005),
        limit: 100,
        ..AuditFilter::default()
    };
    let times: Vec<i64> = store
        .audit(&window)
        .await
        .unwrap()
        .iter()
        .map(|e| e.at)
        .collect();
    assert_eq!(times, [1_700_000_002, 1_700_000_003, 1_700_000_004]);
}

/// The version table holds exactly the bytes the client sent, and no other column of it
/// holds anything the client did not give.
pub async fn stores_only_what_it_is_given(db: TestDatabase) {
    let record = b"{\"body\":{\"keys\":[\"STRIPE_KEY\"]},\"signature\":\"c2ln\"}";
    let ciphertext = b"age-encryption.org/v1\n-> X25519 opaque\n";
    db.store
        .create_version(&version(1, record, ciphertext), &PUSHED)
        .await
        .unwrap();
    sqlx::any::install_default_drivers();
    let raw_url = match db.store.backend() {
        envsync_server::store::Backend::Sqlite => format!("sqlite://{}", db.url),
        envsync_server::store::Backend::Postgres => db.url.clone(),
    };
    let pool = AnyPool::connect(&raw_url).await.unwrap();
    let rows = sqlx::query("SELECT * FROM versions")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        row.columns().len(),
        8,
        "no column beyond what NewVersion names"
    );
    assert_eq!(row.get::<Vec<u8>, _>("record_json"), record);
    assert_eq!(row.get::<Vec<u8>, _>("ciphertext"), ciphertext);
    assert_eq!(row.get::<String, _>("author_key"), "envsync1-author");
    pool.close().await;
}

pub async fn read_cache_follows_writes(db: TestDatabase) {
    let mut store = db.store.clone();
    store.enable_read_cache();
    store
        .create_account("ada-1", "Ada", "age1ada:sig", false, 1)
        .await
        .unwrap();
    store
        .create_token(&NewToken {
            token_hash: "hash",
            id: "tok",
            label: "laptop",
            kind: envsync_api::TokenKind::Personal,
            account: "ada-1",
            project: None,
            environment: None,
            created_at: 1,
            expires_at: Some(100),
        })
        .await
        .unwrap();
    for _ in 0..2 {
        let (_, token, account) = store.authenticate("tok", 50).await.unwrap().unwrap();
        assert_eq!((token.id.as_str(), account.name.as_str()), ("tok", "Ada"));
    }
    assert_eq!(
        store.authenticate("tok", 100).await.unwrap(),
        None,
        "expiry applies to cached tokens"
    );
    store.authenticate("tok", 50).await.unwrap().unwrap();
    store.revoke_token("tok", 60).await.unwrap();
    assert_eq!(
        store.authenticate("tok", 61).await.unwrap(),
        None,
        "revocation evicts"
    );

    assert_eq!(store.grant("ada-1", "p").await.unwrap(), None);
    store
        .set_grant("ada-1", "p", Role::Writer, None)
        .await
        .unwrap();
    assert_eq!(
        store.grant("ada-1", "p").await.unwrap().unwrap().role,
        Role::Writer
    );
    store
        .set_grant("ada-1", "p", Role::Reader, None)
        .await
        .unwrap();
    assert_eq!(
        store.grant("ada-1", "p").await.unwrap().unwrap().role,
        Role::Reader
    );
    store.delete_grant("ada-1", "p").await.unwrap();
    assert_eq!(store.grant("ada-1", "p").await.unwrap(), None);

    assert_eq!(store.head("p", "dev").await.unwrap(), None);
    let version = NewVersion {
        project: "p",
        environment: "dev",
        number: 1,
        base: None,
        author_key: "age1ada:sig",
        record_json: b"{}",
        ciphertext_sha256: "00",
        ciphertext: b"x",
    };
    assert_eq!(
        store.create_version(&version, &PUSHED).await.unwrap(),
        Created::Created
    );
    assert_eq!(store.head("p", "dev").await.unwrap(), Some(1));
}

/// The SQLite file and its `-wal` / `-shm` companions are the server user's alone (0600),
/// whether the store created the file or found one an older version left world-readable.
pub async fn sqlite_files_are_private(db: TestDatabase) {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = db.store.sqlite_path() else {
        return;
    };
    db.store
        .create_account("ada-1", "Ada", "age1ada:sig", false, 1)
        .await
        .unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let older = path.with_file_name("older.db");
    std::fs::write(&older, b"").unwrap();
    std::fs::set_permissions(&older, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = envsync_server::store::Store::open(&older.display().to_string())
        .await
        .unwrap();
    assert_eq!(mode(&older), 0o600);
    store.close().await;
}

async fn read(
    store: &envsync_server::store::Store,
    project: &str,
    head_of: Option<&str>,
) -> Option<envsync_server::store::ReadAccess> {
    store
        .authenticate_read("tok", 50, project, head_of)
        .await
        .unwrap()
}

/// `authenticate_read`, the one query behind every read, answers what a replica wrote just
/// before: its pushes, grant changes and revocations.
pub async fn authenticated_reads_see_every_replicas_writes(db: TestDatabase) {
    let (store, replica) = (&db.store, db.replica().await);
    store
        .create_account("ada-1", "Ada", "age1ada:sig", false, 1)
        .await
        .unwrap();
    let token = NewToken {
        token_hash: "hash",
        id: "tok",
        label: "laptop",
        kind: envsync_api::TokenKind::Personal,
        account: "ada-1",
        project: None,
        environment: None,
        created_at: 1,
        expires_at: Some(100),
    };
    store.create_token(&token).await.unwrap();
    let access = read(store, "ranking-be", Some("production")).await.unwrap();
    assert_eq!(
        (access.token_hash.as_str(), access.account.name.as_str()),
        ("hash", "Ada")
    );
    assert_eq!((access.grant, access.head), (None, None));
    replica
        .set_grant("ada-1", "ranking-be", Role::Reader, None)
        .await
        .unwrap();
    replica
        .create_version(&version(1, b"{}", b"c1"), &PUSHED)
        .await
        .unwrap();
    let access = read(store, "ranking-be", Some("production")).await.unwrap();
    assert_eq!(access.grant.map(|grant| grant.role), Some(Role::Reader));
    assert_eq!(access.head, Some(1));
    replica
        .create_version(&version(2, b"{}", b"c2"), &PUSHED)
        .await
        .unwrap();
    assert_eq!(
        read(store, "ranking-be", Some("production"))
            .await
            .unwrap()
            .head,
        Some(2)
    );
    assert_eq!(
        read(store, "ranking-be", None).await.unwrap().head,
        None,
        "not asked for"
    );
    assert_eq!(
        read(store, "other", Some("production"))
            .await
            .unwrap()
            .grant,
        None
    );
    assert!(
        store
            .authenticate_read("tok", 100, "ranking-be", None)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    replica.revoke_token("tok", 60).await.unwrap();
    assert!(
        read(store, "ranking-be", Some("production"))
            .await
            .is_none(),
        "revoked"
    );
}

/// A live personal token `id` of a new account `account` (hash `hash-{id}`), expiring at 100.
async fn account_with_token(store: &envsync_server::store::Store, account: &str, id: &str) {
    store
        .create_account(account, account, &format!("age1{account}:sig"), false, 1)
        .await
        .unwrap();
    let hash = format!("hash-{id}");
    let token = NewToken {
        token_hash: &hash,
        id,
        label: "laptop",
        kind: envsync_api::TokenKind::Personal,
        account,
        project: None,
        environment: None,
        created_at: 1,
        expires_at: Some(100),
    };
    store.create_token(&token).await.unwrap();
}

/// A read's answer, comparable: token hash, account, role and head.
type Answered = (String, String, Option<Role>, Option<u64>);

/// What a read answered, comparable, or whether its error is a corruption.
fn read_answer(
    answer: envsync_server::store::Result<Option<envsync_server::store::ReadAccess>>,
) -> Result<Option<Answered>, bool> {
    answer
        .map(|access| {
            access.map(|access| {
                let role = access.grant.map(|grant| grant.role);
                (access.token_hash, access.account.id, role, access.head)
            })
        })
        .map_err(|error| error.is_corrupt())
}

fn read_request(id: &str, project: &str, head_of: Option<&str>) -> ReadRequest {
    ReadRequest {
        id: id.to_owned(),
        now: 50,
        project: project.to_owned(),
        head_of: head_of.map(str::to_owned),
    }
}

/// PostgreSQL asks concurrent reads in one statement: each answer is the one the read gets
/// alone (a stranger, a revoked or expired token, another project, a corrupt grant, each in
/// its own place), and one request's input PostgreSQL refuses fails that request only.
pub async fn batched_reads_answer_as_each_alone(db: TestDatabase) {
    let store = &db.store;
    if store.backend() != envsync_server::store::Backend::Postgres {
        return;
    }
    for (account, id) in [("ada", "tok-a"), ("bob", "tok-b"), ("cy", "tok-r")] {
        account_with_token(store, account, id).await;
    }
    store.revoke_token("tok-r", 10).await.unwrap();
    store
        .set_grant("ada", "ranking-be", Role::Reader, None)
        .await
        .unwrap();
    store
        .set_grant("bob", "broken", Role::Reader, None)
        .await
        .unwrap();
    let pool = raw_pool(&db).await;
    sqlx::query("UPDATE grants SET role = 'superuser' WHERE project = 'broken'")
        .execute(&pool)
        .await
        .unwrap();
    store
        .create_version(&version(1, b"{}", b"c1"), &PUSHED)
        .await
        .unwrap();
    store
        .create_version(&version(2, b"{}", b"c2"), &PUSHED)
        .await
        .unwrap();
    let requests = vec![
        read_request("tok-a", "ranking-be", Some("production")),
        read_request("stranger", "ranking-be", Some("production")),
        read_request("tok-b", "ranking-be", None),
        read_request("tok-r", "ranking-be", Some("production")),
        read_request("tok-b", "broken", None),
        read_request("tok-a", "other", Some("production")),
        read_request("tok-a", "ranking-be", Some("staging")),
        read_request("tok-a", "ranking-be", None),
    ];
    let batched = store.authenticate_reads(&requests).await.unwrap();
    let batched: Vec<_> = batched.into_iter().map(read_answer).collect();
    let mut alone = Vec::new();
    for request in &requests {
        let answer = store
            .authenticate_read(
                &request.id,
                50,
                &request.project,
                request.head_of.as_deref(),
            )
            .await;
        alone.push(read_answer(answer));
    }
    assert_eq!(batched, alone);
    let ada = Some((
        "hash-tok-a".to_owned(),
        "ada".to_owned(),
        Some(Role::Reader),
        Some(2),
    ));
    assert_eq!(batched[0], Ok(ada));
    assert_eq!((&batched[1], &batched[3]), (&Ok(None), &Ok(None)));
    assert_eq!(
        batched[2],
        Ok(Some(("hash-tok-b".into(), "bob".into(), None, None)))
    );
    assert_eq!(
        batched[4],
        Err(true),
        "the corrupt grant fails its own read only"
    );
    let expired = [ReadRequest {
        now: 100,
        ..read_request("tok-a", "ranking-be", None)
    }];
    let expired = store.authenticate_reads(&expired).await.unwrap();
    assert_eq!(read_answer(expired.into_iter().next().unwrap()), Ok(None));

    let refused = read_request("tok-a", "nul\0project", None);
    assert!(
        store.authenticate_reads(&[refused]).await.is_err(),
        "PostgreSQL refuses NUL"
    );
    let mut reads = tokio::task::JoinSet::new();
    for round in 0..200 {
        let store = store.clone();
        reads.spawn(async move {
            let project = if round == 100 {
                "nul\0project"
            } else {
                "ranking-be"
            };
            let answer = store.authenticate_read("tok-a", 50, project, Some("production"));
            (round, read_answer(answer.await))
        });
    }
    while let Some(outcome) = reads.join_next().await {
        let (round, answer) = outcome.unwrap();
        match round {
            100 => assert_eq!(answer, Err(false), "the refused read fails alone"),
            _ => assert_eq!(answer.unwrap().unwrap().3, Some(2), "read {round}"),
        }
    }
}
