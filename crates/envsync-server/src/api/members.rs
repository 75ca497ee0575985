//! The membership log and access requests.
//!
//! The server checks each event's signature (by the calling owner's key) and its parent
//! digest before storing it, and keeps its grants in step with the events it stores: the
//! signed log is the only thing that grants a role here, and removing a member from it
//! also ends their access. Clients still verify the whole chain themselves.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use envsync_api::{AccountGrant, PendingAccount, ProjectGrants, Records};
use envsync_core::records::{
    AccessRequest, FORMAT, MembershipAction, MembershipBody, MembershipEvent, Signable, Signed,
};
use envsync_core::role::Role;

use super::access::{Access, require, require_or_pending, to_grant};
use super::auth::Caller;
use super::json::ApiPath;
use super::signatures::{self, verified};
use super::versions::raw_record;
use super::{ApiError, AppState, now};
use crate::store::{AuditEntry, Transaction};

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
    let rows = match require_or_pending(&state, &caller, &project).await? {
        Access::Creator => Vec::new(),
        Access::Member | Access::Pending => state.store().membership(&project).await?,
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
    let record: MembershipEvent = verified(&bytes, "membership event")?;
    let event = &record.body;
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
            || event.action != MembershipAction::Add
            || event.member != event.actor
            || event.role != Role::Owner
        {
            return Err(ApiError::no_project(&project));
        }
    }
    check_parent(&state, &project, event).await?;
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
        MembershipAction::Add => "member.add",
        MembershipAction::Remove => "member.remove",
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

/// Refuses an event that does not extend the stored log: the first has no parent, every
/// later one names the digest of the entry before it. Otherwise one owner's garbage (or a
/// fork) would jam every client that reads the log.
async fn check_parent(
    state: &AppState,
    project: &str,
    event: &MembershipBody,
) -> Result<(), ApiError> {
    let expected = match event.number.checked_sub(1).filter(|previous| *previous > 0) {
        None => None,
        Some(previous) => {
            let log = state.store().membership(project).await?;
            let stored = usize::try_from(previous - 1)
                .ok()
                .and_then(|index| log.get(index));
            match stored {
                // The number is taken or skipped: the insert answers 409 or this 400.
                None if log.len() as u64 >= event.number => return Ok(()),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "membership event {}: the log has {} entries, so the next is {}",
                        event.number,
                        log.len(),
                        log.len() + 1
                    )));
                }
                Some(bytes) => Some(stored_digest::<MembershipBody>(bytes, "membership entry")?),
            }
        }
    };
    if event.parent_digest != expected {
        return Err(ApiError::bad_request(format!(
            "membership event {}: parent_digest does not match the digest of entry {}",
            event.number,
            event.number.saturating_sub(1)
        )));
    }
    Ok(())
}

/// The digest of a stored record, as the next record in its chain names it.
pub fn stored_digest<T: Signable>(bytes: &[u8], what: &str) -> Result<String, ApiError> {
    Signed::<T>::from_json(bytes, what)
        .map(|record| record.digest())
        .map_err(|error| {
            tracing::error!("a stored {what} does not parse: {error}");
            ApiError::bad_request(format!(
                "the stored {what} this one builds on is not a format {FORMAT} record"
            ))
        })
}

/// Mirrors a stored event in the grants of the account bound to its member key. This is
/// the only place a role is granted: an owner's signed event admitting the key. Either
/// way the account's pending invitation ends.
async fn apply_to_grants(
    transaction: &mut Transaction<'_>,
    account: &str,
    project: &str,
    event: &MembershipBody,
) -> Result<(), ApiError> {
    transaction.clear_pending(account, project).await?;
    match event.action {
        MembershipAction::Add => {
            transaction
                .set_grant(account, project, event.role, event.environments.as_deref())
                .await?;
        }
        MembershipAction::Remove => {
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
pub async fn audit(
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
    let pending = state
        .store()
        .project_pending(&project)
        .await?
        .into_iter()
        .map(|account| PendingAccount {
            account: account.id,
            name: account.name,
            member_key: account.member_key,
        })
        .collect();
    Ok(Json(ProjectGrants { grants, pending }))
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
    if let Access::Creator = require_or_pending(&state, &caller, &project).await? {
        return Err(ApiError::no_project(&project));
    }
    if caller.is_ci() {
        return Err(ApiError::forbidden("CI tokens are read-only"));
    }
    let bytes = body(bytes)?;
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
