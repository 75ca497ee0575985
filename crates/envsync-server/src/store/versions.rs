//! Versions: each environment's append-only, numbered history of signed records and their
//! ciphertexts.

use super::audit::{NewAuditEntry, OwnedAuditEntry};
use super::{Result, Store, to_i64};

/// What a stored version's successor is checked against: the digest it must name as its
/// parent, and the membership entry the version was made under (a successor may not name an
/// older one). Kept so that each push need not parse and hash its parent's record again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionLink {
    pub digest: String,
    pub membership: u64,
}

/// A version as a client pushed it. The server cannot check the signature (it does not link
/// the crypto crate), so `record_json` is stored as given; clients verify what they read.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub project: &'a str,
    pub environment: &'a str,
    pub number: u64,
    pub base: Option<u64>,
    pub author_key: &'a str,
    pub record_json: &'a [u8],
    pub ciphertext_sha256: &'a str,
    pub ciphertext: &'a [u8],
}

/// A [`NewVersion`] the insert's own task owns.
struct OwnedVersion {
    project: String,
    environment: String,
    number: i64,
    base: Option<i64>,
    author_key: String,
    record_json: Vec<u8>,
    ciphertext_sha256: String,
    ciphertext: Vec<u8>,
}

impl OwnedVersion {
    fn new(version: &NewVersion<'_>) -> Result<Self> {
        Ok(Self {
            project: version.project.to_owned(),
            environment: version.environment.to_owned(),
            number: to_i64("version number", version.number)?,
            base: version.base.map(|base| to_i64("base", base)).transpose()?,
            author_key: version.author_key.to_owned(),
            record_json: version.record_json.to_vec(),
            ciphertext_sha256: version.ciphertext_sha256.to_owned(),
            ciphertext: version.ciphertext.to_vec(),
        })
    }
}

/// The outcome of [`Store::create_version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The environment is not at `number - 1`: another push won, or the client is behind.
    /// The HTTP layer answers 409 and the client syncs.
    Conflict {
        head: Option<u64>,
    },
}

/// [`Store::heads_with_records`]: `$1` the project. The recursive part steps to the next
/// environment name above the last one (a loose index scan, which neither database does by
/// itself for `GROUP BY`); the join takes each environment's highest number.
const HEADS_WITH_RECORDS: &str = "\
    WITH RECURSIVE names(environment) AS ( \
        SELECT MIN(environment) FROM versions WHERE project = $1 \
        UNION ALL \
        SELECT (SELECT MIN(w.environment) FROM versions w \
                WHERE w.project = $1 AND w.environment > names.environment) \
        FROM names WHERE names.environment IS NOT NULL), \
    heads(environment, number) AS ( \
        SELECT environment, (SELECT MAX(m.number) FROM versions m \
                             WHERE m.project = $1 AND m.environment = names.environment) \
        FROM names WHERE environment IS NOT NULL) \
    SELECT heads.environment, heads.number, \
           (SELECT v.record_json FROM versions v WHERE v.project = $1 \
            AND v.environment = heads.environment AND v.number = heads.number) \
    FROM heads ORDER BY heads.environment";

impl Store {
    /// The newest version number of an environment, `None` before its first push.
    pub async fn head(&self, project: &str, environment: &str) -> Result<Option<u64>> {
        let key = (project.to_owned(), environment.to_owned());
        if let Some(cache) = &self.cache
            && let Some(head) = cache.heads().get(&key)
        {
            return Ok(head);
        }
        let generation = self.cache.as_ref().map(|cache| cache.heads().generation());
        let head: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(number) FROM versions WHERE project = $1 AND environment = $2",
        )
        .bind(project)
        .bind(environment)
        .fetch_one(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        let head = head
            .map(|number| self.to_u64("version number", number))
            .transpose()?;
        if let (Some(cache), Some(generation)) = (&self.cache, generation) {
            cache.heads().put(generation, key, head);
        }
        Ok(head)
    }

    /// Every environment of `project` that has a version, with its head number and that
    /// version's signed record as stored, sorted by environment: what `GET …/heads` serves.
    /// One statement, so one moment of the database however many environments there are;
    /// it walks the primary key (project, environment, number) from one environment to the
    /// next, takes each one's highest number, and reads that one record by its key, so its
    /// cost grows with the environments, not with their history. (Written as a join on
    /// `number = (SELECT MAX…)`, SQLite 3.46 checked the condition on every version of the
    /// environment: 31 ms at 10,000 versions. The record is a scalar subquery by full key
    /// now, which no planner can turn into a scan.) Not from the read cache: it is never
    /// stale, and a push or a revocation needs no eviction for it.
    pub async fn heads_with_records(&self, project: &str) -> Result<Vec<(String, u64, Vec<u8>)>> {
        let rows: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(HEADS_WITH_RECORDS)
            .bind(project)
            .fetch_all(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        rows.into_iter()
            .map(|(environment, number, record)| {
                Ok((environment, self.to_u64("version number", number)?, record))
            })
            .collect()
    }

    /// The link of version `number`, if this process has seen it: at its push, or when a
    /// successor was checked against it. Like a record, it never changes once stored, so
    /// it is never stale, on any replica; it is kept in the record cache's budget.
    pub fn version_link(
        &self,
        project: &str,
        environment: &str,
        number: u64,
    ) -> Option<VersionLink> {
        self.immutable
            .link(&(project.to_owned(), environment.to_owned(), number))
    }

    /// Keeps the link of stored version `number` (see [`Store::version_link`]).
    pub fn remember_link(&self, project: &str, environment: &str, number: u64, link: VersionLink) {
        let key = (project.to_owned(), environment.to_owned(), number);
        self.immutable.put_link(key, link);
    }

    /// A version's signed record, as stored.
    pub async fn version_record(
        &self,
        project: &str,
        environment: &str,
        number: u64,
    ) -> Result<Option<bytes::Bytes>> {
        let key = record_key(project, environment, number);
        if let Some(found) = self.immutable.get(&key) {
            return Ok(Some(found));
        }
        let record: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT record_json FROM versions \
             WHERE project = $1 AND environment = $2 AND number = $3",
        )
        .bind(project)
        .bind(environment)
        .bind(to_i64("version number", number)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(record.map(|record| {
            let record = bytes::Bytes::from(record);
            self.immutable.put(key, record.clone());
            record
        }))
    }

    /// Version `number`'s record and its ciphertext in one query, as `GET …/head?with=version`
    /// sends them. Cached as records are: a stored version never changes.
    pub async fn version_with_ciphertext(
        &self,
        project: &str,
        environment: &str,
        number: u64,
    ) -> Result<Option<(bytes::Bytes, bytes::Bytes)>> {
        let record_at = record_key(project, environment, number);
        let object_at = format!("object of {project}/{environment}/{number}");
        if let (Some(record), Some(ciphertext)) = (
            self.immutable.get(&record_at),
            self.immutable.get(&object_at),
        ) {
            return Ok(Some((record, ciphertext)));
        }
        let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT record_json, ciphertext FROM versions \
             WHERE project = $1 AND environment = $2 AND number = $3",
        )
        .bind(project)
        .bind(environment)
        .bind(to_i64("version number", number)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(row.map(|(record, ciphertext)| {
            let (record, ciphertext) = (bytes::Bytes::from(record), bytes::Bytes::from(ciphertext));
            self.immutable.put(record_at, record.clone());
            self.immutable.put(object_at, ciphertext.clone());
            (record, ciphertext)
        }))
    }

    /// The ciphertext a record names by its SHA-256, as the client's `Remote::ciphertext`
    /// asks for it. The hash is the client's claim; the client checks it on download.
    pub async fn ciphertext(
        &self,
        project: &str,
        environment: &str,
        sha256: &str,
    ) -> Result<Option<bytes::Bytes>> {
        let key = format!("object {project}/{environment}/{sha256}");
        if let Some(found) = self.immutable.get(&key) {
            return Ok(Some(found));
        }
        let ciphertext: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT ciphertext FROM versions \
             WHERE project = $1 AND environment = $2 AND ciphertext_sha256 = $3 LIMIT 1",
        )
        .bind(project)
        .bind(environment)
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        Ok(ciphertext.map(|ciphertext| {
            let ciphertext = bytes::Bytes::from(ciphertext);
            self.immutable.put(key, ciphertext.clone());
            ciphertext
        }))
    }

    /// Stores `version` if and only if it is the environment's next number (head + 1, or 1
    /// for the first push), with `audit`, its entry in the audit log, in one transaction:
    /// one commit (one flush to disk) per push, and no stored version without its entry.
    /// The check and the insert are one statement, and the primary key on (project,
    /// environment, number) refuses a second row with the same number, so of any number of
    /// concurrent pushes on one base, on any number of replicas, exactly one is created and
    /// history never has a gap. Ciphertext and record land in the same row, so a visible
    /// version is always complete.
    pub async fn create_version(
        &self,
        version: &NewVersion<'_>,
        audit: &NewAuditEntry<'_>,
    ) -> Result<Created> {
        let mut created = self.create_versions(&[(*version, *audit)]).await?;
        Ok(created.pop().unwrap_or(Created::Conflict { head: None }))
    }

    /// [`Store::create_version`] of several versions, each for an environment of its own, in
    /// one transaction and one commit: each one is created, or meets a conflict, exactly as
    /// it would alone, and a conflict of one keeps none of the others from being created.
    /// What a membership change sends: a new version of every head.
    pub async fn create_versions(
        &self,
        versions: &[(NewVersion<'_>, NewAuditEntry<'_>)],
    ) -> Result<Vec<Created>> {
        // The inserts run in a task of their own, so they finish, and the cached heads are
        // forgotten, even when the request is dropped midway (a client killed or cut off
        // mid-push): SQLite may commit a statement whose future was dropped, and a cache
        // left holding the old head would then answer every later push with a 409 that no
        // sync resolves. Found by tests/crash.rs.
        let store = self.clone();
        let owned = versions
            .iter()
            .map(|(version, audit)| Ok((OwnedVersion::new(version)?, OwnedAuditEntry::new(audit))))
            .collect::<Result<Vec<_>>>()?;
        let insert = tokio::spawn(async move { store.insert_versions(&owned).await });
        let inserted = match insert.await {
            Ok(inserted) => inserted,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
        .map_err(|source| self.query_error(source))?;
        let mut created = Vec::with_capacity(inserted.len());
        for ((version, _), inserted) in versions.iter().zip(inserted) {
            created.push(match inserted {
                true => Created::Created,
                false => self.conflict(version).await?,
            });
        }
        Ok(created)
    }

    /// The create-only inserts with their audit entries, and the cache evictions after them:
    /// whether each one was created.
    async fn insert_versions(
        &self,
        versions: &[(OwnedVersion, OwnedAuditEntry)],
    ) -> sqlx::Result<Vec<bool>> {
        let inserted = self.insert_versions_audited(versions).await;
        if let Some(cache) = &self.cache {
            for (version, _) in versions {
                cache
                    .heads()
                    .forget(&(version.project.clone(), version.environment.clone()));
            }
        }
        inserted
    }

    /// Each version's row (SQLite takes the write lock at the first), then, only when it was
    /// created, its audit entry; one commit for all. A number already taken inserts nothing
    /// (`ON CONFLICT DO NOTHING`, so that PostgreSQL does not abort the others with it).
    async fn insert_versions_audited(
        &self,
        versions: &[(OwnedVersion, OwnedAuditEntry)],
    ) -> sqlx::Result<Vec<bool>> {
        let mut transaction = self.pool.begin().await?;
        let mut created = Vec::with_capacity(versions.len());
        for (version, audit) in versions {
            let inserted = sqlx::query(
                "INSERT INTO versions (project, environment, number, base, author_key, \
                                       record_json, ciphertext_sha256, ciphertext) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                 WHERE (SELECT COALESCE(MAX(number), 0) FROM versions \
                        WHERE project = $1 AND environment = $2) = $3 - 1 \
                 ON CONFLICT (project, environment, number) DO NOTHING",
            )
            .bind(&version.project)
            .bind(&version.environment)
            .bind(version.number)
            .bind(version.base)
            .bind(&version.author_key)
            .bind(&version.record_json)
            .bind(&version.ciphertext_sha256)
            .bind(&version.ciphertext)
            .execute(&mut *transaction)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                super::audit::insert(&mut *transaction, &audit.entry()).await?;
            }
            created.push(inserted);
        }
        if created.contains(&true) {
            transaction.commit().await?;
        } else {
            transaction.rollback().await?;
        }
        Ok(created)
    }

    async fn conflict(&self, version: &NewVersion<'_>) -> Result<Created> {
        let head = self.head(version.project, version.environment).await?;
        Ok(Created::Conflict { head })
    }

    /// Record JSON of the versions numbered above `after`, oldest first, at most `limit`:
    /// what `log` and a catching-up client page through. Ciphertexts are fetched one by one.
    pub async fn list_versions(
        &self,
        project: &str,
        environment: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT number, record_json FROM versions \
             WHERE project = $1 AND environment = $2 AND number > $3 \
             ORDER BY number LIMIT $4",
        )
        .bind(project)
        .bind(environment)
        .bind(to_i64("version number", after)?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(source))?;
        rows.into_iter()
            .map(|(number, record)| Ok((self.to_u64("version number", number)?, record)))
            .collect()
    }
}

/// The immutable cache's key of version `number`'s record, which every read of it shares.
fn record_key(project: &str, environment: &str, number: u64) -> String {
    format!("record {project}/{environment}/{number}")
}
