//! Roles: what a caller may do on a project and environment. A caller with no role on a
//! project gets the same 404 as for a project that does not exist.

use envsync_api::Grant;
use envsync_core::role::Role;

use super::ApiError;
use super::auth::Caller;
use super::reader::Reader;
use crate::api::AppState;

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
        return Ok(ci_grant(caller, project));
    }
    // The store decoded the row (a corrupt one is an error there, answered 500), so
    // nothing here can widen it.
    Ok(state.store().grant(&caller.account.id, project).await?)
}

/// A CI token's reach, which its token states: reader on its one project (and
/// environment), whatever grant rows its account may have.
fn ci_grant(caller: &Caller, project: &str) -> Option<Grant> {
    (caller.token.project.as_deref() == Some(project)).then(|| Grant {
        project: project.to_owned(),
        role: Role::Reader,
        environments: caller
            .token
            .environment
            .clone()
            .map(|environment| vec![environment]),
    })
}

/// The check most handlers begin with: the caller is a member of the existing `project`
/// with at least `needed` (on `environment`, when given). A server owner who could create
/// the project is told it does not exist: only the log's first event creates one.
pub async fn require_member(
    state: &AppState,
    caller: &Caller,
    project: &str,
    environment: Option<&str>,
    needed: Role,
) -> Result<(), ApiError> {
    match require(state, caller, project, environment, needed).await? {
        Access::Member => Ok(()),
        Access::Creator | Access::Pending => Err(ApiError::no_project(project)),
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
    check_names(project, environment)?;
    let grant = grant(state, caller, project).await?;
    decide(state, caller, project, environment, needed, grant).await
}

/// [`require`] at the reader role for a [`Reader`], whose grant was read with its token.
pub async fn require_reader<const HEAD: bool>(
    state: &AppState,
    reader: &Reader<HEAD>,
    project: &str,
    environment: &str,
) -> Result<Access, ApiError> {
    check_names(project, Some(environment))?;
    let grant = reader_grant(reader, project);
    decide(
        state,
        &reader.caller,
        project,
        Some(environment),
        Role::Reader,
        grant,
    )
    .await
}

/// [`require`] at the reader role on the whole project (no environment named) for a
/// [`Reader`], with the grant it was decided on: a read across environments shows only
/// those the grant covers. Refused as a read of any one environment is refused (a stranger
/// 404, a pending joiner 403), so a caller learns nothing more from it.
pub async fn require_project_reader<const HEAD: bool>(
    state: &AppState,
    reader: &Reader<HEAD>,
    project: &str,
) -> Result<(Access, Option<Grant>), ApiError> {
    check_names(project, None)?;
    let grant = reader_grant(reader, project);
    let access = decide(
        state,
        &reader.caller,
        project,
        None,
        Role::Reader,
        grant.clone(),
    )
    .await?;
    Ok((access, grant))
}

/// A [`Reader`]'s grant on `project`: read with its token, or a CI token's own reach.
fn reader_grant<const HEAD: bool>(reader: &Reader<HEAD>, project: &str) -> Option<Grant> {
    let caller = &reader.caller;
    match caller.is_ci() {
        true => ci_grant(caller, project),
        false => reader.stored_grant.clone(),
    }
}

/// Whether `grant` covers `environment`: a grant without a list covers every one.
pub fn covers(grant: &Grant, environment: &str) -> bool {
    grant
        .environments
        .as_ref()
        .is_none_or(|allowed| allowed.iter().any(|name| name == environment))
}

/// [`require_member`] for a [`Reader`].
pub async fn require_member_reader<const HEAD: bool>(
    state: &AppState,
    reader: &Reader<HEAD>,
    project: &str,
    environment: &str,
) -> Result<(), ApiError> {
    match require_reader(state, reader, project, environment).await? {
        Access::Member => Ok(()),
        Access::Creator | Access::Pending => Err(ApiError::no_project(project)),
    }
}

/// Names no project or environment can have are answered as a project that does not exist.
fn check_names(project: &str, environment: Option<&str>) -> Result<(), ApiError> {
    if !envsync_core::config::is_valid_name(project)
        || environment.is_some_and(|name| !envsync_core::config::is_valid_name(name))
    {
        return Err(ApiError::no_project(project));
    }
    Ok(())
}

/// The access `grant` (the caller's, or none) gives on `project` and `environment`.
async fn decide(
    state: &AppState,
    caller: &Caller,
    project: &str,
    environment: Option<&str>,
    needed: Role,
    grant: Option<Grant>,
) -> Result<Access, ApiError> {
    let Some(grant) = grant else {
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
    if let Some(environment) = environment
        && !covers(&grant, environment)
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
