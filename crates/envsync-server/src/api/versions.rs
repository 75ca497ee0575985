//! Versions: head, records, ciphertexts, and the create-only push.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_api::{Environments, Head, PushVersion, Records};
use envsync_core::hash::sha256_hex;
use envsync_core::records::{MembershipBody, Signed, VersionBody, VersionRecord};
use envsync_core::role::Role;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::access::{self, Access, require};
use super::auth::Caller;
use super::json::{ApiJson, ApiPath, ApiQuery};
use super::members::stored_digest;
use super::signatures::verified;
use super::{ApiError, AppState, now};
use crate::store::{AuditEntry, Created, NewVersion};

#[utoipa::path(get, path = "/api/v1/projects/{project}/environments/{environment}/head",
    params(("project" = String, Path), ("environment" = String, Path)),
    responses((status = 200, body = Head), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn head(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment)): ApiPath<(String, String)>,
) -> Result<Json<Head>, ApiError> {
    let head = match require(&state, &caller, &project, Some(&environment), Role::Reader).await? {
        Access::Creator | Access::Pending => None,
        Access::Member => state.store().head(&project, &environment).await?,
    };
    Ok(Json(Head { head }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only versions numbered above this.
    #[serde(default)]
    after: u64,
    /// At most this many (default and maximum 1000).
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/projects/{project}/environments/{environment}/versions",
    params(("project" = String, Path), ("environment" = String, Path), ListQuery),
    responses((status = 200, body = Records), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Records>, ApiError> {
    let rows = match require(&state, &caller, &project, Some(&environment), Role::Reader).await? {
        Access::Creator | Access::Pending => Vec::new(),
        Access::Member => {
            let limit = query.limit.unwrap_or(1000).clamp(1, 1000);
            state
                .store()
                .list_versions(&project, &environment, query.after, limit)
                .await?
        }
    };
    let records = rows
        .into_iter()
        .map(|(_, json)| raw_record(json))
        .collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

/// Stored record bytes as embeddable JSON. The server stored them only after parsing them,
/// so a failure here means the database was altered behind its back.
pub fn raw_record(bytes: Vec<u8>) -> Result<Box<RawValue>, ApiError> {
    String::from_utf8(bytes)
        .ok()
        .and_then(|text| RawValue::from_string(text).ok())
        .ok_or_else(|| {
            tracing::error!("a stored record is not JSON");
            ApiError::not_found("a stored record is corrupt")
        })
}

#[utoipa::path(get, path = "/api/v1/projects/{project}/environments/{environment}/versions/{number}",
    params(("project" = String, Path), ("environment" = String, Path), ("number" = u64, Path)),
    responses((status = 200, description = "the signed version record", content_type = "application/json"),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment, number)): ApiPath<(String, String, u64)>,
) -> Result<Response, ApiError> {
    require(&state, &caller, &project, Some(&environment), Role::Reader).await?;
    let record = state
        .store()
        .version_record(&project, &environment, number)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("{project}/{environment} has no version {number}"))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], record).into_response())
}

#[utoipa::path(get, path = "/api/v1/projects/{project}/environments/{environment}/objects/{sha256}",
    params(("project" = String, Path), ("environment" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "the age ciphertext", content_type = "application/octet-stream"),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn object(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment, sha256)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    require(&state, &caller, &project, Some(&environment), Role::Reader).await?;
    let ciphertext = state
        .store()
        .ciphertext(&project, &environment, &sha256)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("{project}/{environment} has no object {sha256}"))
        })?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        ciphertext,
    )
        .into_response())
}

#[utoipa::path(put, path = "/api/v1/projects/{project}/environments/{environment}/versions/{number}",
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
    if let Access::Creator =
        require(&state, &caller, &project, Some(&environment), Role::Writer).await?
    {
        return Err(ApiError::no_project(&project));
    }
    // The body is read only after the role check, so that a caller without access learns
    // nothing from validation errors.
    let ApiJson(push) = push?;
    let record: VersionRecord = verified(push.record.get().as_bytes(), "version record")?;
    let body = &record.body;
    if body.project != project || body.environment != environment || body.number != number {
        return Err(ApiError::bad_request(format!(
            "record is for {}/{} version {}, not {project}/{environment} version {number}",
            body.project, body.environment, body.number
        )));
    }
    // A record signed by another member's key is a restore (`envsync repair` after the
    // database went back): its signature verified against its author and its parent must
    // extend the stored history, so it can only put back what was really there.
    let restore = caller.account.member_key.as_deref() != Some(body.author.as_str());
    check_membership(&state, body, restore).await?;
    check_parent(&state, &caller, body).await?;
    let ciphertext = STANDARD
        .decode(push.ciphertext.as_bytes())
        .map_err(|error| ApiError::bad_request(format!("ciphertext: not base64: {error}")))?;
    if sha256_hex(&ciphertext) != body.ciphertext_sha256 {
        return Err(ApiError::bad_request(
            "ciphertext does not match the record's ciphertext_sha256",
        ));
    }
    let created = state
        .store()
        .create_version(&NewVersion {
            project: &project,
            environment: &environment,
            number,
            base: body.base,
            author_key: &body.author,
            record_json: push.record.get().as_bytes(),
            ciphertext_sha256: &body.ciphertext_sha256,
            ciphertext: &ciphertext,
        })
        .await?;
    match created {
        Created::Created => {
            state
                .events()
                .publish(envsync_api::Event {
                    project: project.clone(),
                    environment: Some(environment.clone()),
                    number,
                    author: Some(body.author_name.clone()),
                })
                .await;
            let source = caller.source.text();
            state
                .store()
                .append_audit(&AuditEntry {
                    actor: &caller.actor(),
                    action: if restore {
                        "version.restore"
                    } else {
                        "version.push"
                    },
                    project: Some(&project),
                    target: &format!("{environment} version {number}"),
                    source_address: source.as_deref(),
                    at: now(),
                })
                .await?;
            Ok(StatusCode::CREATED)
        }
        Created::Conflict { head } => Err(ApiError::conflict(
            format!(
                "{project}/{environment} is at version {}, so version {number} cannot be created: pull or sync first",
                head.unwrap_or(0)
            ),
            head,
        )),
    }
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
    let log = state.store().membership(&body.project).await?;
    let pin = &body.membership;
    let named = usize::try_from(pin.number)
        .ok()
        .and_then(|number| number.checked_sub(1))
        .and_then(|index| log.get(index));
    let holds = match named {
        Some(bytes) => stored_digest::<MembershipBody>(bytes, "membership entry")? == pin.digest,
        None => false,
    };
    if !holds {
        return Err(ApiError::bad_request(format!(
            "{what}: membership entry {} with that digest is not in this project's log",
            pin.number
        )));
    }
    if restore {
        let mut admitted = false;
        for bytes in &log {
            let entry = Signed::<MembershipBody>::from_json(bytes, "membership entry")
                .map_err(|error| ApiError::bad_request(error.to_string()))?;
            admitted |= entry.body.member == body.author
                && entry.body.action == envsync_core::records::MembershipAction::Add;
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
        Some(base) => {
            let stored = state
                .store()
                .version_record(&body.project, &body.environment, base)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{what}: its base, version {base}, does not exist"
                    ))
                })?;
            // The membership entry a history names never goes back: a version made under
            // an older one than its base was signed by a standing that had since changed
            // (a removed member's racing push), and every client would refuse it.
            let parent = Signed::<VersionBody>::from_json(&stored, "version record")
                .map_err(|error| ApiError::bad_request(error.to_string()))?;
            if body.membership.number < parent.body.membership.number {
                return Err(ApiError::bad_request(format!(
                    "{what}: names membership entry {}, older than its base's {}",
                    body.membership.number, parent.body.membership.number
                )));
            }
            Some(parent.digest())
        }
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

#[utoipa::path(get, path = "/api/v1/projects/{project}/environments",
    params(("project" = String, Path)),
    responses((status = 200, body = Environments), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn environments(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<Environments>, ApiError> {
    let environments = match require(&state, &caller, &project, None, Role::Reader).await? {
        Access::Member => state.store().environments(&project).await?,
        Access::Creator | Access::Pending => Vec::new(),
    };
    Ok(Json(Environments { environments }))
}
