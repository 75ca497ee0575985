//! The membership log: reading it, and appending an owner's signed event.
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
use envsync_api::Records;
use envsync_api::paths::route;
use envsync_core::records::{
    FORMAT, MembershipAction, MembershipBody, MembershipEvent, Signable, Signed,
};
use envsync_core::role::Role;

use super::access::{Access, require, require_or_pending};
use super::auth::Caller;
use super::json::{ApiPath, ApiQuery, raw_body};
use super::signatures::verified;
use super::versions::raw_record;
use super::{ApiError, AppState, now};
use crate::store::Transaction;

/// Query parameters (see [`super::audit::AuditQuery`] on why they say where they live).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Only entries numbered above this (a client that verified the entries up to it reads
    /// only what is new). Entry numbers are SQL integers: a larger `after` is refused.
    #[serde(default)]
    #[param(minimum = 0)]
    after: i64,
}

#[utoipa::path(get, path = route::MEMBERS,
    params(("project" = String, Path), LogQuery),
    responses((status = 200, body = Records), (status = 400, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<Json<Records>, ApiError> {
    let after = super::contract::position(query.after)?;
    let rows = match require_or_pending(&state, &caller, &project).await? {
        Access::Creator => Vec::new(),
        Access::Member | Access::Pending => state.store().membership_after(&project, after).await?,
    };
    let records = rows.into_iter().map(raw_record).collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

#[utoipa::path(put, path = route::MEMBER_EVENT,
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
    let bytes = raw_body(bytes)?;
    let record: MembershipEvent = verified(&bytes, "membership event")?;
    let event = &record.body;
    check_event(&caller, &access, &project, number, event)?;
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
    transaction
        .append_audit(&caller.audit(action, Some(&project), &label))
        .await?;
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

/// Refuses an event for another place in the log, or not signed by the caller's own key,
/// or (on a project that does not exist yet) anything but its creator adding themself as
/// its first owner.
fn check_event(
    caller: &Caller,
    access: &Access,
    project: &str,
    number: u64,
    event: &MembershipBody,
) -> Result<(), ApiError> {
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
    let creates_project = number == 1
        && event.action == MembershipAction::Add
        && event.member == event.actor
        && event.role == Role::Owner;
    if let Access::Creator = access
        && !creates_project
    {
        return Err(ApiError::no_project(project));
    }
    Ok(())
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
