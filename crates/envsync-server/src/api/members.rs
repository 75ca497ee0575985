//! The membership log, access requests and invites.
//!
//! The server stores membership events as signed by owners and cannot check those
//! signatures; it does check the caller's role, and keeps its grants in step with the
//! events it stores, so that removing a member from the log also ends their access here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use envsync_api::{
    AccessRequestHeader, AccountGrant, Grant, Invite, MembershipHeader, NewInvite, ProjectGrants,
    RecordHeader, Records,
};
use envsync_core::hash::sha256_hex;
use envsync_core::role::Role;

use super::access::{Access, require, to_grant};
use super::auth::Caller;
use super::json::{ApiJson, ApiPath, parse};
use super::versions::raw_record;
use super::{ApiError, AppState, new_code, now};
use crate::store::{self, AuditEntry, Transaction};

const DEFAULT_INVITE_SECONDS: u64 = 7 * 24 * 3600;
const MAX_INVITE_SECONDS: u64 = 30 * 24 * 3600;

/// A raw body, with the size limit's rejection as an API error.
pub fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(format!(
            "request body is larger than {} bytes",
            envsync_api::MAX_BODY_BYTES
        )),
        _ => ApiError::bad_request(format!("request body: {}", rejection.body_text())),
    })
}

#[utoipa::path(get, path = "/api/v1/projects/{project}/members",
    params(("project" = String, Path)),
    responses((status = 200, body = Records), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<Records>, ApiError> {
    let rows = match require(&state, &caller, &project, None, Role::Reader).await? {
        Access::Creator => Vec::new(),
        Access::Member => state.store().membership(&project).await?,
    };
    let records = rows.into_iter().map(raw_record).collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

#[utoipa::path(put, path = "/api/v1/projects/{project}/members/{number}",
    params(("project" = String, Path), ("number" = u64, Path)),
    request_body(content = Object, description = "a signed membership event"),
    responses((status = 201, description = "appended"),
        (status = 409, description = "the number is taken", body = envsync_api::ErrorBody),
        (status = 400, body = envsync_api::ErrorBody), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn append(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, number)): ApiPath<(String, u64)>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let access = require(&state, &caller, &project, None, Role::Owner).await?;
    let bytes = body(bytes)?;
    let header: RecordHeader<MembershipHeader> = parse(&bytes, "membership event")?;
    let event = &header.body;
    if event.project != project || event.number != number {
        return Err(ApiError::bad_request(format!(
            "membership event is for {} number {}, not {project} number {number}",
            event.project, event.number
        )));
    }
    if caller.account.member_key.as_deref() != Some(event.actor.as_str()) {
        return Err(ApiError::forbidden(
            "the event's actor is not the member key your account joined with",
        ));
    }
    if let Access::Creator = access {
        // Creating a project: its first event makes the creator its owner.
        if number != 1
            || event.action != envsync_api::MembershipAction::Add
            || event.member != event.actor
            || event.role != Role::Owner
        {
            return Err(ApiError::no_project(&project));
        }
    }
    let label = member_label(&state, &event.member).await?;
    let member = state.store().account_by_member_key(&event.member).await?;
    // The event, the grant it changes, the CI tokens it revokes and its audit entry: one
    // transaction, so a member is never removed from the log while keeping a role here.
    let mut transaction = state.store().begin().await?;
    if !transaction
        .append_membership(&project, number, &bytes)
        .await?
    {
        return Err(ApiError::conflict(
            format!("membership event {number} of project {project} already exists"),
            None,
        ));
    }
    if let Some(member) = member {
        apply_to_grants(&mut transaction, &member.id, &project, event).await?;
    }
    let action = match event.action {
        envsync_api::MembershipAction::Add => "member.add",
        envsync_api::MembershipAction::Remove => "member.remove",
    };
    audit(&mut transaction, &caller, action, &project, &label).await?;
    transaction.commit().await?;
    state
        .events()
        .publish(envsync_api::Event {
            project: project.clone(),
            environment: None,
            number,
            author: Some(caller.actor()),
        })
        .await;
    Ok(StatusCode::CREATED)
}

/// Mirrors a stored event in the grants of the account bound to its member key.
async fn apply_to_grants(
    transaction: &mut Transaction<'_>,
    account: &str,
    project: &str,
    event: &MembershipHeader,
) -> Result<(), ApiError> {
    match event.action {
        envsync_api::MembershipAction::Add => {
            transaction
                .set_grant(account, project, event.role, event.environments.as_deref())
                .await?;
        }
        envsync_api::MembershipAction::Remove => {
            transaction.delete_grant(account, project).await?;
            transaction
                .revoke_ci_tokens(account, project, now())
                .await?;
        }
    }
    Ok(())
}

/// An account's id and name when the key has one, else the start of the key.
async fn member_label(state: &AppState, member_key: &str) -> Result<String, ApiError> {
    Ok(
        match state.store().account_by_member_key(member_key).await? {
            Some(account) => format!("{} ({})", account.id, account.name),
            None => format!("key {}", member_key.chars().take(16).collect::<String>()),
        },
    )
}

/// Records the caller's change as part of its transaction.
async fn audit(
    transaction: &mut Transaction<'_>,
    caller: &Caller,
    action: &str,
    project: &str,
    target: &str,
) -> Result<(), ApiError> {
    let source = caller.source.text();
    transaction
        .append_audit(&AuditEntry {
            actor: &caller.actor(),
            action,
            project: Some(project),
            target,
            source_address: source.as_deref(),
            at: now(),
        })
        .await?;
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/projects/{project}/grants",
    params(("project" = String, Path)),
    responses((status = 200, body = ProjectGrants), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn grants(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<ProjectGrants>, ApiError> {
    if let Access::Creator = require(&state, &caller, &project, None, Role::Owner).await? {
        return Err(ApiError::no_project(&project));
    }
    let grants = state
        .store()
        .project_grants(&project)
        .await?
        .into_iter()
        .map(|(account, record)| {
            let grant = to_grant(record);
            AccountGrant {
                account: account.id,
                name: account.name,
                member_key: account.member_key,
                role: grant.role,
                environments: grant.environments,
            }
        })
        .collect();
    Ok(Json(ProjectGrants { grants }))
}

#[utoipa::path(get, path = "/api/v1/projects/{project}/requests",
    params(("project" = String, Path)),
    responses((status = 200, body = Records), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn requests(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<Records>, ApiError> {
    let rows = match require(&state, &caller, &project, None, Role::Reader).await? {
        Access::Creator => Vec::new(),
        Access::Member => state.store().access_requests(&project).await?,
    };
    let records = rows
        .into_iter()
        .map(|(_, json)| raw_record(json))
        .collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

#[utoipa::path(put, path = "/api/v1/projects/{project}/requests/{fingerprint}",
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
    if let Access::Creator = require(&state, &caller, &project, None, Role::Reader).await? {
        return Err(ApiError::no_project(&project));
    }
    if caller.is_ci() {
        return Err(ApiError::forbidden("CI tokens are read-only"));
    }
    let bytes = body(bytes)?;
    let header: RecordHeader<AccessRequestHeader> = parse(&bytes, "access request")?;
    if header.body.project != project {
        return Err(ApiError::bad_request(format!(
            "access request is for project {}, not {project}",
            header.body.project
        )));
    }
    if caller.account.member_key.as_deref() != Some(header.body.member.as_str()) {
        return Err(ApiError::forbidden(
            "you can only ask access for the member key your account joined with",
        ));
    }
    if !valid_fingerprint(&fingerprint) {
        return Err(ApiError::bad_request(format!(
            "`{fingerprint}` is not a key fingerprint (xxxx-xxxx-xxxx-xxxx)"
        )));
    }
    let mut transaction = state.store().begin().await?;
    transaction
        .put_access_request(&project, &fingerprint, &bytes)
        .await?;
    audit(
        &mut transaction,
        &caller,
        "access.request",
        &project,
        &fingerprint,
    )
    .await?;
    transaction.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn valid_fingerprint(text: &str) -> bool {
    text.len() == 19
        && text.split('-').count() == 4
        && text
            .split('-')
            .all(|group| group.len() == 4 && group.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

#[utoipa::path(delete, path = "/api/v1/projects/{project}/requests/{fingerprint}",
    params(("project" = String, Path), ("fingerprint" = String, Path)),
    responses((status = 204, description = "deleted, or there was none"),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn delete_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, fingerprint)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if let Access::Creator = require(&state, &caller, &project, None, Role::Owner).await? {
        return Err(ApiError::no_project(&project));
    }
    let mut transaction = state.store().begin().await?;
    if transaction
        .delete_access_request(&project, &fingerprint)
        .await?
    {
        audit(
            &mut transaction,
            &caller,
            "access.request.delete",
            &project,
            &fingerprint,
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/projects/{project}/invites",
    params(("project" = String, Path)),
    request_body = NewInvite,
    responses((status = 201, body = Invite), (status = 400, body = envsync_api::ErrorBody),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    request: Result<ApiJson<NewInvite>, ApiError>,
) -> Result<(StatusCode, Json<Invite>), ApiError> {
    if let Access::Creator = require(&state, &caller, &project, None, Role::Owner).await? {
        return Err(ApiError::no_project(&project));
    }
    let ApiJson(request) = request?;
    if let Some(environments) = &request.environments {
        if environments.is_empty() {
            return Err(ApiError::bad_request(
                "environments: name at least one, or leave it out for all",
            ));
        }
        for name in environments {
            if !envsync_core::config::is_valid_name(name) {
                return Err(ApiError::bad_request(format!(
                    "environments: invalid environment name `{name}`"
                )));
            }
        }
    }
    let seconds = request.expires_in_seconds.unwrap_or(DEFAULT_INVITE_SECONDS);
    if seconds == 0 || seconds > MAX_INVITE_SECONDS {
        return Err(ApiError::bad_request(format!(
            "expires_in_seconds must be between 1 and {MAX_INVITE_SECONDS}"
        )));
    }
    let code = new_code();
    let created_at = now();
    let expires_at = created_at.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
    let mut transaction = state.store().begin().await?;
    transaction
        .create_invite(&store::NewInvite {
            code_hash: &sha256_hex(code.as_bytes()),
            project: &project,
            role: request.role,
            environments: request.environments.as_deref(),
            created_by: &caller.account.id,
            created_at,
            expires_at,
        })
        .await?;
    audit(
        &mut transaction,
        &caller,
        "invite.create",
        &project,
        &format!("role {}", request.role),
    )
    .await?;
    transaction.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Invite {
            code,
            grant: Grant {
                project,
                role: request.role,
                environments: request.environments,
            },
            expires_at,
        }),
    ))
}
