//! Access requests: a joiner files its own (signed by its member key), members read them,
//! and an owner deletes one to decline it (accepting is a membership event, see `log`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use envsync_api::Records;
use envsync_api::paths::route;
use envsync_core::records::AccessRequest;
use envsync_core::role::Role;

use super::access::{Access, require, require_member, require_or_pending};
use super::auth::Caller;
use super::json::{ApiPath, raw_body};
use super::signatures::{self, verified};
use super::versions::raw_record;
use super::{ApiError, AppState};

#[utoipa::path(get, path = route::REQUESTS,
    params(("project" = String, Path)),
    responses((status = 200, body = Records), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn requests(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<Records>, ApiError> {
    let rows = match require(&state, &caller, &project, None, Role::Reader).await? {
        Access::Creator | Access::Pending => Vec::new(),
        Access::Member if caller.is_ci() => {
            return Err(ApiError::forbidden("CI tokens do not read access requests"));
        }
        Access::Member => state.store().access_requests(&project).await?,
    };
    let records = rows
        .into_iter()
        .map(|(_, json)| raw_record(json))
        .collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

#[utoipa::path(put, path = route::REQUEST,
    params(("project" = String, Path), ("fingerprint" = String, Path)),
    request_body(content = Object, description = "a signed access request"),
    responses((status = 204, description = "stored"), (status = 400, body = envsync_api::ErrorBody),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn put_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, fingerprint)): ApiPath<(String, String)>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    if let Access::Creator = require_or_pending(&state, &caller, &project).await? {
        return Err(ApiError::no_project(&project));
    }
    if caller.is_ci() {
        return Err(ApiError::forbidden("CI tokens are read-only"));
    }
    let bytes = raw_body(bytes)?;
    let request: AccessRequest = verified(&bytes, "access request")?;
    if request.body.project != project {
        return Err(ApiError::bad_request(format!(
            "access request is for project {}, not {project}",
            request.body.project
        )));
    }
    if caller.account.member_key.as_deref() != Some(request.body.member.as_str()) {
        return Err(ApiError::forbidden(
            "you can only ask access for the member key your account joined with",
        ));
    }
    if fingerprint != signatures::fingerprint(&request.body.member) {
        return Err(ApiError::bad_request(format!(
            "`{fingerprint}` is not the fingerprint of the request's member key"
        )));
    }
    let mut transaction = state.store().begin().await?;
    transaction
        .put_access_request(&project, &fingerprint, &bytes)
        .await?;
    transaction
        .append_audit(&caller.audit("access.request", Some(&project), &fingerprint))
        .await?;
    transaction.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = route::REQUEST,
    params(("project" = String, Path), ("fingerprint" = String, Path)),
    responses((status = 204, description = "deleted, or there was none"),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn delete_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, fingerprint)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    // Deleting a joiner's request declines them: their pending invitation ends too.
    let requester = match state.store().access_request(&project, &fingerprint).await? {
        Some(bytes) => match AccessRequest::from_json(&bytes, "access request") {
            Ok(request) => {
                state
                    .store()
                    .account_by_member_key(&request.body.member)
                    .await?
            }
            Err(_) => None,
        },
        None => None,
    };
    let mut transaction = state.store().begin().await?;
    if transaction
        .delete_access_request(&project, &fingerprint)
        .await?
    {
        if let Some(account) = &requester {
            transaction.clear_pending(&account.id, &project).await?;
        }
        let entry = caller.audit("access.request.delete", Some(&project), &fingerprint);
        transaction.append_audit(&entry).await?;
    }
    transaction.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
