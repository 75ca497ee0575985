//! Invites, signed by the owner who makes them. The owner's client makes the one-time code
//! and signs the terms (role, environments, expiry) with its member key; the server keeps
//! the code's hash and the signed invite, so it can neither learn the code nor change the
//! role that an accepting owner's client will grant.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use envsync_api::paths::route;
use envsync_api::{Grant, Invite, InviteList, NewInvite};
use envsync_core::records::{InviteBody, SignedInvite};
use envsync_core::role::Role;

use super::access::require_member;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::signatures::verified;
use super::{ApiError, AppState, now};
use crate::store::{self, Revocation};

/// The longest an invite may stand.
const MAX_INVITE_SECONDS: i64 = 30 * 24 * 3600;

#[utoipa::path(post, path = route::INVITES,
    params(("project" = String, Path)),
    request_body = NewInvite,
    responses((status = 201, body = Invite), (status = 400, body = envsync_api::ErrorBody),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody),
        (status = 409, description = "an invite with this code exists", body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    request: Result<ApiJson<NewInvite>, ApiError>,
) -> Result<(StatusCode, Json<Invite>), ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    let ApiJson(request) = request?;
    let signed: SignedInvite = verified(request.signed.get().as_bytes(), "signed invite")?;
    check_terms(&signed.body, &caller, &project, &request.code_sha256)?;
    let body = &signed.body;
    if state
        .store()
        .signed_invite(&project, &request.code_sha256)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict("an invite with this code exists", None));
    }
    let mut transaction = state.store().begin().await?;
    transaction
        .create_invite(&store::InviteRow {
            code_hash: &request.code_sha256,
            project: &project,
            role: body.role,
            environments: body.environments.as_deref(),
            created_by: &caller.account.id,
            created_at: now(),
            expires_at: body.expires_at,
            signed_json: request.signed.get(),
        })
        .await?;
    let target = format!("role {}", body.role);
    transaction
        .append_audit(&caller.audit("invite.create", Some(&project), &target))
        .await?;
    transaction.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Invite {
            code_sha256: request.code_sha256,
            grant: Grant {
                project,
                role: body.role,
                environments: body.environments.clone(),
            },
            expires_at: body.expires_at,
        }),
    ))
}

/// The checks beyond the signature: the invite is the caller's, for this project and
/// code, for known environments, and not expired nor standing too long.
fn check_terms(
    body: &InviteBody,
    caller: &Caller,
    project: &str,
    code_sha256: &str,
) -> Result<(), ApiError> {
    if caller.account.member_key.as_deref() != Some(body.created_by.as_str()) {
        return Err(ApiError::forbidden(
            "the invite's created_by is not the member key your account joined with",
        ));
    }
    if body.project != project {
        return Err(ApiError::bad_request(format!(
            "the invite is for project {}, not {project}",
            body.project
        )));
    }
    let hex = |text: &str| {
        text.len() == 64
            && text
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    };
    if !hex(code_sha256) || body.code_sha256 != code_sha256 {
        return Err(ApiError::bad_request(
            "code_sha256 must be the lowercase hex SHA-256 the signed invite names",
        ));
    }
    if let Some(environments) = &body.environments
        && (environments.is_empty()
            || !environments
                .iter()
                .all(|name| envsync_core::config::is_valid_name(name)))
    {
        return Err(ApiError::bad_request(
            "environments: name at least one valid environment, or leave it out for all",
        ));
    }
    let now = now();
    if body.expires_at <= now || body.expires_at > now.saturating_add(MAX_INVITE_SECONDS) {
        return Err(ApiError::bad_request(format!(
            "expires_at must be in the future and at most {} days away",
            MAX_INVITE_SECONDS / 86_400
        )));
    }
    Ok(())
}

#[utoipa::path(get, path = route::INVITE,
    params(("project" = String, Path), ("code_sha256" = String, Path)),
    responses((status = 200, description = "the owner-signed invite (Signed<InviteBody> JSON)", content_type = "application/json"),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, code_sha256)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    let signed = state
        .store()
        .signed_invite(&project, &code_sha256)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {project} has no such invite")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], signed).into_response())
}

#[utoipa::path(get, path = route::INVITES,
    params(("project" = String, Path)),
    responses((status = 200, body = InviteList), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<InviteList>, ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    let invites = state.store().project_invites(&project).await?;
    Ok(Json(InviteList { invites }))
}

/// Revokes an invite nobody has redeemed: a join with its code is refused from then on.
/// Revoking one that was redeemed or revoked already changes nothing and answers 409, so
/// that an owner who meant to stop a joiner learns that the code did its work already.
#[utoipa::path(delete, path = route::INVITE,
    params(("project" = String, Path), ("code_sha256" = String, Path)),
    responses((status = 204, description = "revoked"),
        (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody),
        (status = 409, body = envsync_api::ErrorBody,
            description = "the invite was redeemed or revoked already; nothing changed")),
    security(("token" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, code_sha256)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    let at = now();
    let mut transaction = state.store().begin().await?;
    let outcome = transaction
        .revoke_invite(&project, &code_sha256, &caller.account.id, at)
        .await?;
    match outcome {
        Revocation::Revoked => {
            let target = format!("invite {code_sha256}");
            let entry = store::NewAuditEntry {
                at,
                ..caller.audit("invite.revoke", Some(&project), &target)
            };
            transaction.append_audit(&entry).await?;
            transaction.commit().await?;
            Ok(StatusCode::NO_CONTENT)
        }
        Revocation::NotFound => Err(ApiError::not_found(format!(
            "project {project} has no such invite"
        ))),
        Revocation::Redeemed(account) => Err(ApiError::conflict(
            format!(
                "the invite was redeemed by {account} already: nothing to revoke (an owner \
                 accepts them, or removes them with `envsync members remove`)"
            ),
            None,
        )),
        Revocation::AlreadyRevoked(_) => {
            Err(ApiError::conflict("the invite was revoked already", None))
        }
    }
}
