//! Who is calling: the bearer token, checked against its stored hash in constant time, and
//! the client's address for the audit log and the failure limiter.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use envsync_core::hash::sha256_hex;
use subtle::ConstantTimeEq;

use super::{ApiError, AppState, now, token_id};
use envsync_api::{TokenInfo, TokenKind};

use crate::store::{Account, NewAuditEntry, Session};

/// The client's address: the socket peer, or with `--behind-proxy` the last
/// `X-Forwarded-For` entry.
#[derive(Debug, Clone, Copy)]
pub struct Source(pub Option<IpAddr>);

impl Source {
    pub fn text(&self) -> Option<String> {
        self.0.map(|address| address.to_string())
    }
}

impl FromRequestParts<AppState> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.behind_proxy()
            && let Some(address) = forwarded_for(&parts.headers)
        {
            return Ok(Source(Some(address)));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(Source(peer))
    }
}

/// The rightmost `X-Forwarded-For` entry: the one the proxy in front of us appended. Every
/// entry to its left came from the client, who could otherwise pick an address per request
/// and walk around the failed-sign-in limit or forge the audit log's source.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: Account,
    pub token: TokenInfo,
    /// Where the request came from ([`Source`]), as the audit log writes it.
    address: Option<String>,
    /// Signed in through a dashboard session cookie rather than a bearer token: a browser
    /// sends cookies on its own, so WebSockets check `Origin` (see `events`).
    pub by_session: bool,
}

impl Caller {
    pub fn is_ci(&self) -> bool {
        self.token.kind == TokenKind::Ci
    }

    /// How the audit log names the caller: the account id (its name as a slug, and a
    /// suffix), which `envsync audit --actor` filters on.
    pub fn actor(&self) -> String {
        self.account.id.clone()
    }

    /// The audit log's entry for this caller doing `action` to `target`, now: every
    /// handler records its change through this, in the change's own transaction.
    pub fn audit<'a>(
        &'a self,
        action: &'a str,
        project: Option<&'a str>,
        target: &'a str,
    ) -> NewAuditEntry<'a> {
        NewAuditEntry {
            actor: &self.account.id,
            action,
            project,
            target,
            source_address: self.address.as_deref(),
            at: now(),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// A valid token always works; only failures count toward the limit, and only an
    /// address over it is answered 429 (for its failures) instead of 401.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let source = Source::from_request_parts(parts, state).await?;
        let Some(presented) = bearer(&parts.headers) else {
            return session_caller(parts, state, source).await;
        };
        if let Some((account, token)) = authenticate(state, presented).await? {
            return Ok(Caller::new(account, token, source));
        }
        Err(refuse_token(state, source).await)
    }
}

impl Caller {
    pub(super) fn new(account: Account, token: TokenInfo, source: Source) -> Self {
        Caller {
            account,
            token,
            address: source.text(),
            by_session: false,
        }
    }
}

/// Where a request came from and the bearer token it presents; a request without one is
/// refused (401) before anything is looked up.
pub(super) async fn presented<'a>(
    parts: &'a mut Parts,
    state: &AppState,
) -> Result<(Source, &'a str), ApiError> {
    let source = Source::from_request_parts(parts, state).await?;
    let presented = bearer(&parts.headers)
        .ok_or_else(|| ApiError::unauthorized("missing `Authorization: Bearer TOKEN` header"))?;
    Ok((source, presented))
}

/// The answer to a token that is not valid, after [`refuse`] has counted and audited it.
pub(super) async fn refuse_token(state: &AppState, source: Source) -> ApiError {
    if let Err(error) = refuse(state, source, "auth.failed", "token").await {
        return error;
    }
    ApiError::unauthorized("the token is not valid (revoked, expired or mistyped)")
}

/// Whether `presented` is the token whose hash is stored, compared in constant time.
pub(super) fn matches(presented: &str, stored_hash: &str) -> bool {
    let presented_hash = sha256_hex(presented.as_bytes());
    bool::from(presented_hash.as_bytes().ct_eq(stored_hash.as_bytes()))
}

/// After a failed sign-in (a bad token or code): answers 429 to an address already over
/// the limit, else counts the failure (in the database, shared by every replica) and
/// audits it, leaving the caller to answer 401.
pub async fn refuse(
    state: &AppState,
    source: Source,
    action: &str,
    target: &str,
) -> Result<(), ApiError> {
    state.metrics().sign_in_failed();
    let store = state.store();
    let at = now();
    let address = source.text();
    if let Some(address) = &address {
        if store.sign_in_blocked(address, at).await? {
            return Err(ApiError::rate_limited());
        }
        store.record_sign_in_failure(address, at).await?;
    }
    store
        .append_audit(&NewAuditEntry {
            actor: "anonymous",
            action,
            project: None,
            target,
            source_address: address.as_deref(),
            at,
        })
        .await?;
    Ok(())
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// The caller of a request with no bearer token: a dashboard session's cookie, which on a
/// state-changing request must come with the session's CSRF token.
async fn session_caller(
    parts: &Parts,
    state: &AppState,
    source: Source,
) -> Result<Caller, ApiError> {
    let Some(cookie) = session_cookie(&parts.headers) else {
        return Err(ApiError::unauthorized(
            "missing `Authorization: Bearer TOKEN` header",
        ));
    };
    let Some((session, account, token)) = live_session(state, cookie).await? else {
        refuse(state, source, "auth.failed", "dashboard session").await?;
        return Err(ApiError::unauthorized(
            "the dashboard session has expired or was signed out; sign in again",
        ));
    };
    if !parts.method.is_safe() {
        let sent = parts.headers.get(CSRF_HEADER).map(|value| value.as_bytes());
        let matches =
            sent.is_some_and(|sent| bool::from(sent.ct_eq(session.csrf_token.as_bytes())));
        if !matches {
            return Err(ApiError::forbidden(format!(
                "missing or wrong `{CSRF_HEADER}` header (the dashboard sends it; a page on \
                 another site cannot)"
            )));
        }
    }
    Ok(Caller {
        account,
        token,
        address: source.text(),
        by_session: true,
    })
}

/// The header a dashboard page sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The dashboard session cookie's name.
pub const SESSION_COOKIE: &str = "envsync_session";

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The live session a cookie names, with the live token it acts as and that token's
/// account: a revoked or expired token ends its sessions.
pub async fn live_session(
    state: &AppState,
    cookie: &str,
) -> Result<Option<(Session, Account, TokenInfo)>, ApiError> {
    let store = state.store();
    let Some(session) = store
        .live_session(&sha256_hex(cookie.as_bytes()), now())
        .await?
    else {
        return Ok(None);
    };
    let Some((_, token, account)) = store.authenticate(&session.token_id, now()).await? else {
        return Ok(None);
    };
    Ok(Some((session, account, token)))
}

/// The live token `presented` is, and its account; `None` for a wrong, revoked or expired
/// one.
pub async fn authenticate(
    state: &AppState,
    presented: &str,
) -> Result<Option<(Account, TokenInfo)>, ApiError> {
    let Some(id) = token_id(presented) else {
        return Ok(None);
    };
    let Some((stored_hash, token, account)) = state.store().authenticate(id, now()).await? else {
        return Ok(None);
    };
    Ok(matches(presented, &stored_hash).then_some((account, token)))
}
