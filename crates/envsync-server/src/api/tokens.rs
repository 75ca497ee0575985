//! Tokens: who a token belongs to, personal access tokens and CI tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use envsync_api::paths::route;
use envsync_api::{
    Grant, NewCiToken, NewToken, TokenCreated, TokenInfo, TokenKind, TokenList, WhoAmI,
};
use envsync_core::hash::sha256_hex;
use envsync_core::role::Role;

use super::access::{grant, require_member};
use super::auth::Caller;
use super::contract::{MAX_TOKEN_SECONDS, check_label, well_formed_member_key};
use super::join::new_account_id;
use super::json::{ApiJson, ApiPath};
use super::{ApiError, AppState, new_token, now};
use crate::store::{self, NewAuditEntry, Transaction};

#[utoipa::path(get, path = route::WHOAMI,
    responses((status = 200, body = WhoAmI), (status = 401, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn whoami(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WhoAmI>, ApiError> {
    let grants = grants_of(&state, &caller).await?;
    let pending = if caller.is_ci() {
        Vec::new()
    } else {
        state.store().pending_projects(&caller.account.id).await?
    };
    Ok(Json(WhoAmI {
        pending,
        account: caller.account.id,
        name: caller.account.name,
        member_key: caller.account.member_key,
        admin: caller.account.admin,
        token_kind: caller.token.kind,
        grants,
    }))
}

async fn grants_of(state: &AppState, caller: &Caller) -> Result<Vec<Grant>, ApiError> {
    if caller.is_ci() {
        let Some(project) = &caller.token.project else {
            return Ok(Vec::new());
        };
        return Ok(grant(state, caller, project).await?.into_iter().collect());
    }
    Ok(state.store().grants(&caller.account.id).await?)
}

fn expiry(seconds: Option<u64>, created_at: i64) -> Result<Option<i64>, ApiError> {
    match seconds {
        None => Ok(None),
        Some(seconds) if seconds == 0 || seconds > MAX_TOKEN_SECONDS => Err(ApiError::bad_request(
            format!("expires_in_seconds must be between 1 and {MAX_TOKEN_SECONDS}"),
        )),
        Some(seconds) => Ok(Some(
            created_at.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)),
        )),
    }
}

/// Projects the caller owns: their CI tokens are the caller's to see and revoke.
async fn owned_projects(state: &AppState, caller: &Caller) -> Result<Vec<String>, ApiError> {
    if caller.is_ci() {
        return Ok(Vec::new());
    }
    Ok(state
        .store()
        .grants(&caller.account.id)
        .await?
        .into_iter()
        .filter(|grant| grant.role == Role::Owner)
        .map(|grant| grant.project)
        .collect())
}

#[utoipa::path(get, path = route::TOKENS,
    responses((status = 200, body = TokenList), (status = 401, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    let projects = owned_projects(&state, &caller).await?;
    let tokens = if caller.is_ci() {
        vec![caller.token.clone()]
    } else {
        state
            .store()
            .tokens_visible_to(&caller.account.id, &projects)
            .await?
    };
    Ok(Json(TokenList { tokens }))
}

#[utoipa::path(post, path = route::TOKENS,
    request_body = NewToken,
    responses((status = 201, body = TokenCreated), (status = 400, body = envsync_api::ErrorBody),
        (status = 403, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    if caller.is_ci() {
        return Err(ApiError::forbidden("CI tokens cannot create tokens"));
    }
    check_label("label", &request.label)?;
    let created_at = now();
    let expires_at = expiry(request.expires_in_seconds, created_at)?;
    let account = caller.account.id.clone();
    let mut transaction = state.store().begin().await?;
    let created = issue(
        &mut transaction,
        &caller,
        IssuedToken {
            label: request.label.trim(),
            kind: TokenKind::Personal,
            account: &account,
            project: None,
            environment: None,
            created_at,
            expires_at,
        },
    )
    .await?;
    transaction.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}

struct IssuedToken<'a> {
    label: &'a str,
    kind: TokenKind,
    account: &'a str,
    project: Option<&'a str>,
    environment: Option<&'a str>,
    created_at: i64,
    expires_at: Option<i64>,
}

/// Stores a new token and its audit entry, in the caller's transaction.
async fn issue(
    transaction: &mut Transaction<'_>,
    caller: &Caller,
    token: IssuedToken<'_>,
) -> Result<TokenCreated, ApiError> {
    let (secret, id) = new_token();
    transaction
        .create_token(&store::NewToken {
            token_hash: &sha256_hex(secret.as_bytes()),
            id: &id,
            label: token.label,
            kind: token.kind,
            account: token.account,
            project: token.project,
            environment: token.environment,
            created_at: token.created_at,
            expires_at: token.expires_at,
        })
        .await?;
    let action = match token.kind {
        TokenKind::Ci => "token.create_ci",
        TokenKind::Personal => "token.create",
    };
    let target = format!("token {id} ({})", token.label);
    let entry = NewAuditEntry {
        at: token.created_at,
        ..caller.audit(action, token.project, &target)
    };
    transaction.append_audit(&entry).await?;
    Ok(TokenCreated {
        token: secret,
        info: TokenInfo {
            id,
            label: token.label.to_owned(),
            kind: token.kind,
            account: token.account.to_owned(),
            project: token.project.map(str::to_owned),
            environment: token.environment.map(str::to_owned),
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked_at: None,
        },
    })
}

#[utoipa::path(delete, path = route::TOKEN,
    params(("id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::not_found(format!("no token {id} of yours"));
    let token = state
        .store()
        .token_by_id(&id)
        .await?
        .ok_or_else(not_found)?;
    let allowed = if caller.is_ci() {
        token.id == caller.token.id
    } else if token.account == caller.account.id {
        true
    } else {
        token.kind == TokenKind::Ci
            && match &token.project {
                Some(project) => owned_projects(&state, &caller).await?.contains(project),
                None => false,
            }
    };
    if !allowed {
        return Err(not_found());
    }
    if state.store().revoke_token(&id, now()).await? {
        let target = format!("token {id} ({})", token.label);
        let entry = caller.audit("token.revoke", token.project.as_deref(), &target);
        state.store().append_audit(&entry).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = route::CI_TOKENS,
    params(("project" = String, Path)),
    request_body = NewCiToken,
    responses((status = 201, body = TokenCreated), (status = 400, body = envsync_api::ErrorBody),
        (status = 403, body = envsync_api::ErrorBody), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn create_ci(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
    request: Result<ApiJson<NewCiToken>, ApiError>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    require_member(&state, &caller, &project, None, Role::Owner).await?;
    let ApiJson(request) = request?;
    if !envsync_core::config::is_valid_name(&request.environment) {
        return Err(ApiError::bad_request(format!(
            "environment: invalid environment name `{}`",
            request.environment
        )));
    }
    check_label("name", &request.name)?;
    if !well_formed_member_key(&request.member_key) {
        return Err(ApiError::bad_request(
            "member_key: expected `age1…:…` as `envsync whoami` prints it",
        ));
    }
    let created_at = now();
    let expires_at = expiry(request.expires_in_seconds, created_at)?;
    let store = state.store();
    let existing = store.account_by_member_key(&request.member_key).await?;
    let mut transaction = store.begin().await?;
    let account = match existing {
        Some(account) => account.id,
        None => {
            let id = new_account_id(&request.name);
            transaction
                .create_account(
                    &id,
                    request.name.trim(),
                    &request.member_key,
                    false,
                    created_at,
                )
                .await?;
            id
        }
    };
    let created = issue(
        &mut transaction,
        &caller,
        IssuedToken {
            label: request.name.trim(),
            kind: TokenKind::Ci,
            account: &account,
            project: Some(&project),
            environment: Some(&request.environment),
            created_at,
            expires_at,
        },
    )
    .await?;
    transaction.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}
