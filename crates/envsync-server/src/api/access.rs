//! Roles: what a caller may do on a project and environment. A caller with no role on a
//! project gets the same 404 as for a project that does not exist.

use envsync_api::Grant;
use envsync_core::role::Role;

use super::ApiError;
use super::auth::Caller;
use crate::api::AppState;
use crate::store::GrantRecord;

/// A caller's standing on one project.
#[derive(Debug, Clone)]
pub enum Access {
    Member,
    /// The project does not exist yet and the caller may create it (a server owner).
    Creator,
    /// The caller redeemed an invite to the project and no owner has admitted its key yet:
    /// returned only by [`require_or_pending`], for the few things a joiner may do.
    Pending,
}

/// What a pending joiner is told everywhere but the membership log and its own request.
pub fn waiting(project: &str) -> ApiError {
    ApiError::forbidden(format!(
        "waiting for an owner to accept you on project {project}: they run `envsync members accept`"
    ))
}

/// [`require`] for what a pending joiner may also do (read the membership log, file its
/// own access request): [`Access::Pending`] instead of a refusal.
pub async fn require_or_pending(
    state: &AppState,
    caller: &Caller,
    project: &str,
) -> Result<Access, ApiError> {
    match require(state, caller, project, None, Role::Reader).await {
        Err(error) if error.is_forbidden() => {
            if !caller.is_ci()
                && state
                    .store()
                    .is_pending(&caller.account.id, project)
                    .await?
            {
                Ok(Access::Pending)
            } else {
                Err(error)
            }
        }
        other => other,
    }
}

/// The caller's grant on `project`: a CI token's is reader on its one environment.
pub async fn grant(
    state: &AppState,
    caller: &Caller,
    project: &str,
) -> Result<Option<Grant>, ApiError> {
    if caller.is_ci() {
        return Ok(
            (caller.token.project.as_deref() == Some(project)).then(|| Grant {
                project: project.to_owned(),
                role: Role::Reader,
                environments: caller
                    .token
                    .environment
                    .clone()
                    .map(|environment| vec![environment]),
            }),
        );
    }
    let record = state.store().grant(&caller.account.id, project).await?;
    Ok(record.map(to_grant))
}

/// A stored grant as the API shows it. The store decoded the row (a corrupt one is an
/// error there, answered 500), so nothing here can widen it.
pub fn to_grant(record: GrantRecord) -> Grant {
    Grant {
        project: record.project,
        role: record.role,
        environments: record.environments,
    }
}

/// Resolves the caller's access to `project` and, when `environment` is given, checks it
/// may touch that environment with at least `needed`.
pub async fn require(
    state: &AppState,
    caller: &Caller,
    project: &str,
    environment: Option<&str>,
    needed: Role,
) -> Result<Access, ApiError> {
    if !envsync_core::config::is_valid_name(project)
        || environment.is_some_and(|name| !envsync_core::config::is_valid_name(name))
    {
        return Err(ApiError::no_project(project));
    }
    let Some(grant) = grant(state, caller, project).await? else {
        if caller.account.admin && !caller.is_ci() && !state.store().project_exists(project).await?
        {
            return Ok(Access::Creator);
        }
        if !caller.is_ci()
            && state
                .store()
                .is_pending(&caller.account.id, project)
                .await?
        {
            return Err(waiting(project));
        }
        return Err(ApiError::no_project(project));
    };
    if let (Some(environment), Some(allowed)) = (environment, &grant.environments)
        && !allowed.iter().any(|name| name == environment)
    {
        return Err(ApiError::forbidden(format!(
            "your role on project {project} does not cover environment {environment}"
        )));
    }
    if grant.role < needed {
        return Err(ApiError::forbidden(format!(
            "this needs the {needed} role on project {project}; you are {}",
            grant.role
        )));
    }
    if caller.is_ci() && needed > Role::Reader {
        return Err(ApiError::forbidden("CI tokens are read-only"));
    }
    Ok(Access::Member)
}
