//! The create-only push: a signed version record and its ciphertext, checked before they
//! are stored so that no writer can jam an environment with a version every client must
//! refuse (a wrong place, a made-up membership pin, a parent that is not the stored one).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_api::paths::route;
use envsync_api::{MAX_PUSHED_VERSIONS, PushOutcome, PushOutcomes, PushVersion, PushVersions};
use envsync_core::hash::sha256_hex;
use envsync_core::records::{MembershipAction, MembershipBody, Signed, VersionBody, VersionRecord};
use envsync_core::role::Role;

use super::access::{self, require_member};
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::log::stored_digest;
use super::signatures::verified_digest;
use super::{ApiError, AppState};
use crate::store::{Created, NewAuditEntry, NewVersion, VersionLink};

#[utoipa::path(put, path = route::VERSION,
    params(("project" = String, Path), ("environment" = String, Path), ("number" = u64, Path)),
    request_body = PushVersion,
    responses((status = 201, description = "created"),
        (status = 409, description = "the number is taken: the body's `head` is the current head", body = envsync_api::ErrorBody),
        (status = 400, body = envsync_api::ErrorBody), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody), (status = 413, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment, number)): ApiPath<(String, String, u64)>,
    push: Result<ApiJson<PushVersion>, ApiError>,
) -> Result<StatusCode, ApiError> {
    require_member(&state, &caller, &project, Some(&environment), Role::Writer).await?;
    // The body is read only after the role check, so that a caller without access learns
    // nothing from validation errors.
    let ApiJson(push) = push?;
    let (record, digest) = verified_digest(push.record.get().as_bytes(), "version record")?;
    let body: &VersionBody = &record.body;
    if body.project != project || body.environment != environment || body.number != number {
        return Err(ApiError::bad_request(format!(
            "record is for {}/{} version {}, not {project}/{environment} version {number}",
            body.project, body.environment, body.number
        )));
    }
    let version = checked(&state, &caller, (record, digest), &push).await?;
    let created = state
        .store()
        .create_version(&version.new_version(&push), &version.audit(&caller))
        .await?;
    if let Created::Conflict { head } = created {
        return Err(ApiError::conflict(
            format!(
                "{project}/{environment} is at version {}, so version {number} cannot be \
                 created: pull or sync first",
                head.unwrap_or(0)
            ),
            head,
        ));
    }
    stored(&state, &version).await;
    Ok(StatusCode::CREATED)
}

#[utoipa::path(post, path = route::NEW_VERSIONS,
    params(("project" = String, Path)),
    request_body = PushVersions,
    responses((status = 200, description = "each version created, or not for a taken number", body = PushOutcomes),
        (status = 400, body = envsync_api::ErrorBody), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody), (status = 413, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
/// New versions of several environments of a project in one request and one commit. Every
/// version passes the checks its own `PUT` would make (the caller writes its environment, a
/// verified record, its membership pin, its parent, its ciphertext) before any is stored,
/// so one refusal stores none. A taken number is not a refusal: that version's outcome says
/// so, with the head, and the others are created.
pub async fn create_many(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    push: Result<ApiJson<PushVersions>, ApiError>,
) -> Result<Json<PushOutcomes>, ApiError> {
    // A reader could store nothing here: it is refused before its body is read, as by the
    // `PUT`. Each version's environment is checked against the caller's role below.
    require_member(&state, &caller, &project, None, Role::Writer).await?;
    let ApiJson(push) = push?;
    let versions = checked_all(&state, &caller, &project, &push.versions).await?;
    let entries: Vec<_> = versions
        .iter()
        .zip(&push.versions)
        .map(|(version, sent)| (version.new_version(sent), version.audit(&caller)))
        .collect();
    let created = state.store().create_versions(&entries).await?;
    let mut outcomes = Vec::with_capacity(created.len());
    for (version, created) in versions.iter().zip(created) {
        let body = &version.record.body;
        let head = match created {
            Created::Created => {
                stored(&state, version).await;
                Some(body.number)
            }
            Created::Conflict { head } => head,
        };
        outcomes.push(PushOutcome {
            environment: body.environment.clone(),
            number: body.number,
            created: created == Created::Created,
            head,
        });
    }
    Ok(Json(PushOutcomes { outcomes }))
}

/// Every version of a `POST …/versions`, checked: at most [`MAX_PUSHED_VERSIONS`], one per
/// environment (a second would build on a version not stored yet), each one an environment
/// the caller writes.
async fn checked_all(
    state: &AppState,
    caller: &Caller,
    project: &str,
    versions: &[PushVersion],
) -> Result<Vec<Checked>, ApiError> {
    if versions.len() > MAX_PUSHED_VERSIONS {
        return Err(ApiError::bad_request(format!(
            "versions: at most {MAX_PUSHED_VERSIONS} in one request, not {}",
            versions.len()
        )));
    }
    let mut checked_versions: Vec<Checked> = Vec::with_capacity(versions.len());
    for push in versions {
        let (record, digest) = verified_digest(push.record.get().as_bytes(), "version record")?;
        let body: &VersionBody = &record.body;
        if body.project != project {
            return Err(ApiError::bad_request(format!(
                "record is for {}/{} version {}, not of project {project}",
                body.project, body.environment, body.number
            )));
        }
        if checked_versions
            .iter()
            .any(|other| other.record.body.environment == body.environment)
        {
            return Err(ApiError::bad_request(format!(
                "versions: {project}/{} appears twice; send one version per environment",
                body.environment
            )));
        }
        checked_versions.push(checked(state, caller, (record, digest), push).await?);
    }
    Ok(checked_versions)
}

/// A pushed version that passed every check, ready to store.
struct Checked {
    record: VersionRecord,
    /// Its digest, which its successor will name as its parent.
    digest: String,
    ciphertext: Vec<u8>,
    /// Signed by another member's key: a restore (`envsync repair` after the database went
    /// back), whose signature verified against its author.
    restore: bool,
    /// What its audit entry names: the environment and the number.
    audit_target: String,
}

impl Checked {
    fn new_version<'a>(&'a self, push: &'a PushVersion) -> NewVersion<'a> {
        let body = &self.record.body;
        NewVersion {
            project: &body.project,
            environment: &body.environment,
            number: body.number,
            base: body.base,
            author_key: &body.author,
            record_json: push.record.get().as_bytes(),
            ciphertext_sha256: &body.ciphertext_sha256,
            ciphertext: &self.ciphertext,
        }
    }

    /// Its entry in the audit log, by `caller`: stored with it, in its transaction.
    fn audit<'a>(&'a self, caller: &'a Caller) -> NewAuditEntry<'a> {
        let action = if self.restore {
            "version.restore"
        } else {
            "version.push"
        };
        let body = &self.record.body;
        caller.audit(action, Some(&body.project), &self.audit_target)
    }
}

/// Checks a pushed version whose record verified against its author: the caller writes its
/// environment, it names a membership entry of the stored log and extends the stored
/// history, and its ciphertext is the one it names.
async fn checked(
    state: &AppState,
    caller: &Caller,
    (record, digest): (VersionRecord, String),
    push: &PushVersion,
) -> Result<Checked, ApiError> {
    let body = &record.body;
    require_member(
        state,
        caller,
        &body.project,
        Some(&body.environment),
        Role::Writer,
    )
    .await?;
    // A record signed by another member's key is a restore (`envsync repair` after the
    // database went back): its signature verified against its author and its parent must
    // extend the stored history, so it can only put back what was really there.
    let restore = caller.account.member_key.as_deref() != Some(body.author.as_str());
    check_membership(state, body, restore).await?;
    check_parent(state, caller, body).await?;
    let ciphertext = ciphertext(push, body)?;
    let audit_target = format!("{} version {}", body.environment, body.number);
    Ok(Checked {
        record,
        digest,
        ciphertext,
        restore,
        audit_target,
    })
}

/// The pushed ciphertext, decoded, once it is the one the record names.
fn ciphertext(push: &PushVersion, body: &VersionBody) -> Result<Vec<u8>, ApiError> {
    let ciphertext = STANDARD
        .decode(push.ciphertext.as_bytes())
        .map_err(|error| ApiError::bad_request(format!("ciphertext: not base64: {error}")))?;
    if sha256_hex(&ciphertext) != body.ciphertext_sha256 {
        return Err(ApiError::bad_request(
            "ciphertext does not match the record's ciphertext_sha256",
        ));
    }
    Ok(ciphertext)
}

/// What follows a version's insert: it is counted, its link kept for its successor's check,
/// and its watchers told.
async fn stored(state: &AppState, version: &Checked) {
    let body = &version.record.body;
    state.metrics().push_stored();
    let link = VersionLink {
        digest: version.digest.clone(),
        membership: body.membership.number,
    };
    state
        .store()
        .remember_link(&body.project, &body.environment, body.number, link);
    announce(state, body).await;
}

/// Tells the project's watchers (the audit entry was written with the version).
async fn announce(state: &AppState, body: &VersionBody) {
    state
        .events()
        .publish(envsync_api::Event {
            project: body.project.clone(),
            environment: Some(body.environment.clone()),
            number: body.number,
            author: Some(body.author_name.clone()),
        })
        .await;
}

/// Refuses a version every client would refuse for its membership: the entry it names must
/// be in the stored membership log with that digest, and a restored version's author must
/// have been admitted by that log. Otherwise a writer could jam the environment with a
/// made-up pin, or with a "restore" signed by a key no owner ever admitted.
async fn check_membership(
    state: &AppState,
    body: &VersionBody,
    restore: bool,
) -> Result<(), ApiError> {
    let what = format!(
        "{}/{} version {}",
        body.project, body.environment, body.number
    );
    let pin = &body.membership;
    let holds = match state
        .store()
        .membership_entry(&body.project, pin.number)
        .await?
    {
        Some(bytes) => stored_digest::<MembershipBody>(&bytes, "membership entry")? == pin.digest,
        None => false,
    };
    if !holds {
        return Err(ApiError::bad_request(format!(
            "{what}: membership entry {} with that digest is not in this project's log",
            pin.number
        )));
    }
    if restore {
        // Rare (an owner putting back a version another member signed): the whole log.
        let log = state.store().membership(&body.project).await?;
        let mut admitted = false;
        for bytes in &log {
            let entry = Signed::<MembershipBody>::from_json(bytes, "membership entry")
                .map_err(|error| ApiError::bad_request(error.to_string()))?;
            admitted |=
                entry.body.member == body.author && entry.body.action == MembershipAction::Add;
        }
        if !admitted {
            return Err(ApiError::forbidden(format!(
                "{what}: signed by a key this project's membership log never admitted"
            )));
        }
    }
    Ok(())
}

/// Refuses a version that does not extend the stored history, so that no writer can jam an
/// environment with a version every client must refuse. Version 1 has no parent; any other
/// builds on `number - 1` and names its digest, or is an owner's supersede (a base further
/// back, or none) naming the digest of its base. A number already taken passes here and
/// meets the insert's 409.
async fn check_parent(
    state: &AppState,
    caller: &Caller,
    body: &VersionBody,
) -> Result<(), ApiError> {
    let what = format!(
        "{}/{} version {}",
        body.project, body.environment, body.number
    );
    if body.number == 1 {
        if body.base.is_some() || body.parent_digest.is_some() {
            return Err(ApiError::bad_request(format!(
                "{what}: the first version has no base and no parent_digest"
            )));
        }
        return Ok(());
    }
    if body.base.is_some_and(|base| base >= body.number) {
        return Err(ApiError::bad_request(format!(
            "{what}: base must be below the version's number"
        )));
    }
    if body.supersedes() {
        let owner = access::grant(state, caller, &body.project)
            .await?
            .is_some_and(|grant| grant.role == Role::Owner);
        if !owner {
            return Err(ApiError::forbidden(format!(
                "{what}: only an owner may supersede versions (base {:?} is not {})",
                body.base,
                body.number - 1
            )));
        }
    }
    let expected = match body.base {
        None => None,
        Some(base) => Some(base_digest(state, body, base, &what).await?),
    };
    if body.parent_digest != expected {
        return Err(ApiError::bad_request(format!(
            "{what}: parent_digest does not match the digest of version {}",
            body.base
                .map_or_else(|| "(none)".to_owned(), |base| base.to_string())
        )));
    }
    Ok(())
}

/// The digest of the stored version `base` that `body` builds on, as its `parent_digest`
/// must name it. Its link is read from the store's memory of links when it is there (every
/// version pushed through this process, and every base checked before), so a push parses
/// and hashes no record but its own.
async fn base_digest(
    state: &AppState,
    body: &VersionBody,
    base: u64,
    what: &str,
) -> Result<String, ApiError> {
    let store = state.store();
    let link = match store.version_link(&body.project, &body.environment, base) {
        Some(link) => link,
        None => {
            let stored = store
                .version_record(&body.project, &body.environment, base)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{what}: its base, version {base}, does not exist"
                    ))
                })?;
            let parent = Signed::<VersionBody>::from_json(&stored, "version record")
                .map_err(|error| ApiError::bad_request(error.to_string()))?;
            let link = VersionLink {
                digest: parent.digest(),
                membership: parent.body.membership.number,
            };
            store.remember_link(&body.project, &body.environment, base, link.clone());
            link
        }
    };
    // The membership entry a history names never goes back: a version made under an older
    // one than its base was signed by a standing that had since changed (a removed member's
    // racing push), and every client would refuse it.
    if body.membership.number < link.membership {
        return Err(ApiError::bad_request(format!(
            "{what}: names membership entry {}, older than its base's {}",
            body.membership.number, link.membership
        )));
    }
    Ok(link.digest)
}
