//! The server's grants on a project, for its owners: every accepted account's role, and the
//! accounts still waiting for an owner to admit them.

use axum::Json;
use axum::extract::State;
use envsync_api::paths::route;
use envsync_api::{AccountGrant, PendingAccount, ProjectGrants};
use envsync_core::role::Role;

use super::access::require_member;
use super::auth::Caller;
use super::json::ApiPath;
use super::{ApiError, AppState};

#[utoipa::path(get, path = route::GRANTS,
    params(("project" = String, Path)),
    responses((status = 200, body = ProjectGrants), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn grants(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<ProjectGrants>, ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    let grants = state
        .store()
        .project_grants(&project)
        .await?
        .into_iter()
        .map(|(account, grant)| AccountGrant {
            account: account.id,
            name: account.name,
            member_key: account.member_key,
            role: grant.role,
            environments: grant.environments,
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
