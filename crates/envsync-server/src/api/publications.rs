//! Publication records (`envsync publish`): reading an environment's, and storing one a
//! reader of the environment signed with their own key, with an audit entry.
//!
//! The server checks what it can without decrypting anything, so that nobody can fill an
//! environment's log with records every client would throw away: the signature, the place,
//! the publisher being the caller, and the version being one it stores, with that digest.
//! Clients verify each record again against the membership log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use envsync_api::Records;
use envsync_api::paths::route;
use envsync_core::records::{PublicationBody, PublicationRecord, VersionBody};
use envsync_core::role::Role;

use super::access::{Access, require, require_member};
use super::auth::Caller;
use super::json::{ApiPath, raw_body};
use super::log::stored_digest;
use super::signatures::verified;
use super::versions::raw_record;
use super::{ApiError, AppState};

#[utoipa::path(get, path = route::PUBLICATIONS,
    params(("project" = String, Path), ("environment" = String, Path)),
    responses((status = 200, body = Records), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment)): ApiPath<(String, String)>,
) -> Result<Json<Records>, ApiError> {
    let rows = match require(&state, &caller, &project, Some(&environment), Role::Reader).await? {
        Access::Creator | Access::Pending => Vec::new(),
        Access::Member => state.store().publications(&project, &environment).await?,
    };
    let records = rows.into_iter().map(raw_record).collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

#[utoipa::path(put, path = route::PUBLICATION,
    params(("project" = String, Path), ("environment" = String, Path), ("number" = u64, Path)),
    request_body(content = Object, description = "a signed publication record"),
    responses((status = 201, description = "stored"),
        (status = 409, description = "the number is taken", body = envsync_api::ErrorBody),
        (status = 400, body = envsync_api::ErrorBody), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn append(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment, number)): ApiPath<(String, String, u64)>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    // The body is read only after the role check, so that a caller without access learns
    // nothing from validation errors.
    require_member(&state, &caller, &project, Some(&environment), Role::Reader).await?;
    let bytes = raw_body(bytes)?;
    let record: PublicationRecord = verified(&bytes, "publication record")?;
    let body = &record.body;
    check_place(&caller, (&project, &environment, number), body)?;
    check_version(&state, body).await?;
    let mut transaction = state.store().begin().await?;
    if !transaction
        .append_publication(&project, &environment, number, &bytes)
        .await?
    {
        return Err(ApiError::conflict(
            format!("publication record {number} of {project}/{environment} already exists"),
            None,
        ));
    }
    let target = format!(
        "{environment} version {} -> {}",
        body.version.number, body.target
    );
    transaction
        .append_audit(&caller.audit("publication.record", Some(&project), &target))
        .await?;
    transaction.commit().await?;
    Ok(StatusCode::CREATED)
}

/// Refuses a record for another place than its path, or signed by another key than the
/// one the caller's account joined with: nobody records a publication in someone's name.
fn check_place(
    caller: &Caller,
    (project, environment, number): (&str, &str, u64),
    body: &PublicationBody,
) -> Result<(), ApiError> {
    if body.project != project || body.environment != environment || body.number != number {
        return Err(ApiError::bad_request(format!(
            "publication record is for {}/{} number {}, not {project}/{environment} number \
             {number}",
            body.project, body.environment, body.number
        )));
    }
    if caller.account.member_key.as_deref() != Some(body.publisher.as_str()) {
        return Err(ApiError::forbidden(
            "the record's publisher is not the member key your account joined with",
        ));
    }
    Ok(())
}

/// The version a record names must be stored here with that digest: a record about a
/// version this server never had, or about another history's, tells no client anything.
async fn check_version(state: &AppState, body: &PublicationBody) -> Result<(), ApiError> {
    let pin = &body.version;
    let stored = state
        .store()
        .version_record(&body.project, &body.environment, pin.number)
        .await?;
    let matches = match stored {
        Some(bytes) => stored_digest::<VersionBody>(&bytes, "version record")? == pin.digest,
        None => false,
    };
    if !matches {
        return Err(ApiError::bad_request(format!(
            "publication record names version {} of {}/{} with a digest this server does not \
             store",
            pin.number, body.project, body.environment
        )));
    }
    Ok(())
}
