//! The web dashboard's sign-in: a personal access token, or a single-use code that
//! `envsync dashboard` fetched with its own token, is traded for a session cookie
//! (HttpOnly, SameSite=Strict, Secure over TLS). The session acts as that token, so the
//! API's checks are the same for a browser as for the CLI; it expires, and signs out.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use envsync_api::paths::route;
use envsync_api::{
    CodeSignIn, NewSession, SessionInfo, SignInCode, TokenInfo, TokenKind, TokenSignIn,
};
use envsync_core::hash::sha256_hex;

use super::auth::{
    Caller, SESSION_COOKIE, Source, authenticate, live_session, refuse, session_cookie,
};
use super::json::ApiJson;
use super::{ApiError, AppState, now, random_text};
use crate::store::{Account, NewAuditEntry, NewSession as StoredSession};

/// How long a dashboard session lasts (at most: never past its token's expiry).
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// How long a sign-in code from `envsync dashboard` may wait to be used.
pub const CODE_SECONDS: i64 = 60;

#[utoipa::path(post, path = route::SESSION,
    request_body = NewSession,
    responses((status = 201, body = SessionInfo,
            description = "signed in; the session is in the `envsync_session` cookie"),
        (status = 400, body = envsync_api::ErrorBody),
        (status = 401, body = envsync_api::ErrorBody),
        (status = 403, description = "a CI token cannot sign in", body = envsync_api::ErrorBody),
        (status = 429, body = envsync_api::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    ApiJson(request): ApiJson<NewSession>,
) -> Result<Response, ApiError> {
    let found = match &request {
        NewSession::Token(TokenSignIn { token }) => authenticate(&state, token).await?,
        NewSession::Code(CodeSignIn { code }) => by_code(&state, code).await?,
    };
    let Some((account, token)) = found else {
        refuse(&state, source, "auth.failed", "dashboard sign-in").await?;
        return Err(ApiError::unauthorized(
            "the token or sign-in code is not valid (revoked, expired, used or mistyped)",
        ));
    };
    if token.kind != TokenKind::Personal {
        return Err(ApiError::forbidden(
            "a CI token cannot sign in to the dashboard; use a personal access token",
        ));
    }
    let (cookie, info) = open_session(&state, source, account, &token).await?;
    let max_age = info.expires_at - now();
    let set_cookie = cookie_header(&state, &headers, &cookie, max_age);
    Ok((StatusCode::CREATED, [(SET_COOKIE, set_cookie)], Json(info)).into_response())
}

/// Stores a new session acting as `token` (and its audit entry): the cookie's value, which
/// only the browser keeps, and what the page is told.
async fn open_session(
    state: &AppState,
    source: Source,
    account: Account,
    token: &TokenInfo,
) -> Result<(String, SessionInfo), ApiError> {
    let created_at = now();
    let longest = created_at + SESSION_SECONDS;
    let expires_at = token.expires_at.map_or(longest, |end| end.min(longest));
    let (cookie, csrf_token) = (random_text(), random_text());
    let store = state.store();
    store
        .create_session(&StoredSession {
            session_hash: &sha256_hex(cookie.as_bytes()),
            token_id: &token.id,
            csrf_token: &csrf_token,
            created_at,
            expires_at,
        })
        .await?;
    let target = format!("session of token {}", token.id);
    store
        .append_audit(&NewAuditEntry {
            actor: &account.id,
            action: "dashboard.sign_in",
            project: None,
            target: &target,
            source_address: source.text().as_deref(),
            at: created_at,
        })
        .await?;
    let info = session_info(state, account, csrf_token, expires_at);
    Ok((cookie, info))
}

/// The token a sign-in code was made for, spending the code.
async fn by_code(state: &AppState, code: &str) -> Result<Option<(Account, TokenInfo)>, ApiError> {
    let store = state.store();
    let Some(token_id) = store
        .redeem_sign_in_code(&sha256_hex(code.as_bytes()), now())
        .await?
    else {
        return Ok(None);
    };
    Ok(store
        .authenticate(&token_id, now())
        .await?
        .map(|(_, token, account)| (account, token)))
}

fn session_info(
    state: &AppState,
    account: Account,
    csrf_token: String,
    expires_at: i64,
) -> SessionInfo {
    SessionInfo {
        account: account.id,
        name: account.name,
        admin: account.admin,
        csrf_token,
        expires_at,
        unlock: state.options().dashboard_unlock,
    }
}

/// The `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no other site's
/// page sends it), `Secure` when the browser reached us over TLS, for `max_age` seconds.
fn cookie_header(state: &AppState, headers: &HeaderMap, value: &str, max_age: i64) -> HeaderValue {
    let options = state.options();
    let forwarded_https = options.behind_proxy
        && headers
            .get("x-forwarded-proto")
            .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    let secure = if options.tls || forwarded_https {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[utoipa::path(get, path = route::SESSION,
    responses((status = 200, body = SessionInfo),
        (status = 401, description = "no live session cookie", body = envsync_api::ErrorBody)))]
pub async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, ApiError> {
    let expired = || ApiError::unauthorized("not signed in to the dashboard");
    let cookie = session_cookie(&headers).ok_or_else(expired)?;
    let (session, account, _) = live_session(&state, cookie).await?.ok_or_else(expired)?;
    Ok(Json(session_info(
        &state,
        account,
        session.csrf_token,
        session.expires_at,
    )))
}

#[utoipa::path(delete, path = route::SESSION,
    responses((status = 204, description = "signed out; the cookie is cleared"),
        (status = 401, body = envsync_api::ErrorBody),
        (status = 403, description = "no or a wrong `X-CSRF-Token`, or a bearer token instead of \
            a session", body = envsync_api::ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cookie = session_cookie(&headers)
        .filter(|_| caller.by_session)
        .ok_or_else(|| {
            ApiError::forbidden("sign-out ends a dashboard session; a bearer token cannot")
        })?;
    if state
        .store()
        .delete_session(&sha256_hex(cookie.as_bytes()))
        .await?
    {
        let target = format!("session of token {}", caller.token.id);
        let entry = caller.audit("dashboard.sign_out", None, &target);
        state.store().append_audit(&entry).await?;
    }
    let cleared = cookie_header(&state, &headers, "", 0);
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cleared)]).into_response())
}

#[utoipa::path(post, path = route::SIGN_IN_CODES,
    responses((status = 201, body = SignInCode),
        (status = 401, body = envsync_api::ErrorBody),
        (status = 403, description = "only a personal token may", body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn new_code(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<SignInCode>), ApiError> {
    if caller.is_ci() {
        return Err(ApiError::forbidden(
            "a CI token cannot sign in to the dashboard; use a personal access token",
        ));
    }
    let code = random_text();
    let expires_at = now() + CODE_SECONDS;
    state
        .store()
        .create_sign_in_code(&sha256_hex(code.as_bytes()), &caller.token.id, expires_at)
        .await?;
    Ok((StatusCode::CREATED, Json(SignInCode { code, expires_at })))
}
