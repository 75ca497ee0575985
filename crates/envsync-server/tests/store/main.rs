//! The store test suite, run against SQLite (a temporary file) and PostgreSQL (a fresh
//! database on 127.0.0.1:5432, or `ENVSYNC_TEST_POSTGRES_URL`'s server, dropped afterwards).
//! PostgreSQL being unreachable fails these tests: `.ci/run` and `scripts/test.sh` start it.

mod cases;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use envsync_server::store::Store;
use sqlx::{Connection, Executor, PgConnection};

/// A database for one test: its URL (to open further stores, standing in for replicas) and
/// one store already open on it.
pub struct TestDatabase {
    pub url: String,
    pub store: Store,
}

impl TestDatabase {
    pub async fn replica(&self) -> Store {
        Store::open(&self.url).await.expect("open a second store")
    }

    /// Redeems an invite through a second store, as another replica would.
    pub async fn replica_redeem(
        &self,
        code_hash: &str,
        account: &str,
        now: i64,
    ) -> Option<envsync_api::Grant> {
        self.replica()
            .await
            .redeem_invite(code_hash, account, now)
            .await
            .expect("redeem on a replica")
    }
}

async fn with_sqlite<F, Fut>(case: F)
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let directory = tempfile::tempdir().expect("temp dir");
    let url = directory.path().join("envsync.db").display().to_string();
    let store = Store::open(&url).await.expect("open SQLite store");
    tokio::spawn(case(TestDatabase { url, store }))
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
}

fn maintenance_url() -> String {
    std::env::var("ENVSYNC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn with_postgres<F, Fut>(case: F)
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let maintenance = maintenance_url();
    let mut admin = PgConnection::connect(&maintenance)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is not reachable at {} ({error}); start it (`.ci/run` and \
             scripts/test.sh do) or set ENVSYNC_TEST_POSTGRES_URL",
                envsync_server::store::redact_url(&maintenance)
            )
        });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    let name = format!(
        "envsync_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let (base, _) = maintenance.rsplit_once('/').expect("URL names a database");
    let url = format!("{base}/{name}");
    let store = Store::open(&url).await.expect("open PostgreSQL store");
    let outcome = tokio::spawn(case(TestDatabase {
        url,
        store: store.clone(),
    }))
    .await;
    store.close().await;
    admin
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .expect("drop test database");
    outcome.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
}

/// Runs every listed case once per database.
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::with_sqlite(super::cases::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::with_postgres(super::cases::$case).await;
                }
            )*
        }
    };
}

suite!(
    versions_are_append_only,
    heads_with_records_of_a_project,
    concurrent_pushes_on_one_base,
    concurrent_pushes_across_replicas,
    membership_is_create_only,
    access_requests_upsert_and_delete,
    tokens_create_lookup_revoke,
    accounts_grants_and_invites,
    invites_list_and_revoke,
    read_cache_follows_writes,
    authenticated_reads_see_every_replicas_writes,
    batched_reads_answer_as_each_alone,
    audit_pages_and_filters,
    stores_only_what_it_is_given,
    corrupt_grants_are_errors,
    corrupt_token_kinds_are_errors,
    transactions_commit_all_or_nothing,
    sign_in_failures_are_shared_and_expire,
    sqlite_files_are_private,
);
