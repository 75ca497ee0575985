//! The audit log, paged for a project's owners.

use axum::Json;
use axum::extract::State;
use envsync_api::AuditPage;
use envsync_api::paths::route;
use envsync_core::role::Role;
use serde::Deserialize;

use super::access::require_member;
use super::auth::Caller;
use super::contract::{page_size, position};
use super::json::{ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::store::AuditFilter;

/// A page's filters, all optional. Documented as query parameters (the extractor is our own,
/// so utoipa cannot tell where they live) and never `null`: a query string cannot say null.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries after this id: the previous page's `next_after`.
    #[serde(default)]
    #[param(minimum = 0)]
    after: i64,
    /// Page size, default 100; outside 1..=1000 it is refused (400), not clamped.
    #[param(nullable = false, minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only entries by this account.
    #[param(nullable = false)]
    actor: Option<String>,
    /// Only entries of this action (`push`, `join`, …).
    #[param(nullable = false)]
    action: Option<String>,
    /// Only entries at or after this time (unix seconds).
    #[param(nullable = false)]
    since: Option<i64>,
    /// Only entries before this time (unix seconds).
    #[param(nullable = false)]
    until: Option<i64>,
}

#[utoipa::path(get, path = route::AUDIT,
    params(("project" = String, Path), AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = page_size(query.limit, 100)?;
    position(query.after)?;
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    read(&state, Some(&project), &query, limit).await
}

#[utoipa::path(get, path = route::SERVER_AUDIT,
    params(AuditQuery),
    responses((status = 200, description = "every project's entries and those outside any project (joins, failed sign-ins)", body = AuditPage),
        (status = 403, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn server_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = page_size(query.limit, 100)?;
    position(query.after)?;
    if !caller.account.admin || caller.is_ci() {
        return Err(ApiError::forbidden(
            "the server-wide audit log is for the server's owners (who joined with the setup code)",
        ));
    }
    read(&state, None, &query, limit).await
}

async fn read(
    state: &AppState,
    project: Option<&str>,
    query: &AuditQuery,
    limit: u32,
) -> Result<Json<AuditPage>, ApiError> {
    let records = state
        .store()
        .audit(&AuditFilter {
            project,
            actor: query.actor.as_deref(),
            action: query.action.as_deref(),
            after_id: query.after,
            since: query.since,
            until: query.until,
            limit,
        })
        .await?;
    let next_after = (records.len() == limit as usize)
        .then(|| records.last().map(|record| record.id))
        .flatten();
    Ok(Json(AuditPage {
        entries: records,
        next_after,
    }))
}
