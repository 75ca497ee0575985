//! Who is calling: the bearer token, checked against its stored hash in constant time, and
//! the client's address for the audit log and the failure limiter.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use envsync_core::hash::sha256_hex;
use subtle::ConstantTimeEq;

use super::{ApiError, AppState, now, token_id};
use crate::store::{Account, AuditEntry, TokenRecord};

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
    pub token: TokenRecord,
    pub source: Source,
}

impl Caller {
    pub fn is_ci(&self) -> bool {
        self.token.kind == "ci"
    }

    /// How the audit log names the caller: the account id (its name as a slug, and a
    /// suffix), which `envsync audit --actor` filters on.
    pub fn actor(&self) -> String {
        self.account.id.clone()
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// A valid token always works; only failures count toward the limit, and only an
    /// address over it is answered 429 (for its failures) instead of 401.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let source = Source::from_request_parts(parts, state).await?;
        let presented = bearer(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("missing `Authorization: Bearer TOKEN` header")
        })?;
        if let Some((account, token)) = authenticate(state, presented).await? {
            return Ok(Caller {
                account,
                token,
                source,
            });
        }
        refuse(state, source, "auth.failed", "token").await?;
        Err(ApiError::unauthorized(
            "the token is not valid (revoked, expired or mistyped)",
        ))
    }
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
        .append_audit(&AuditEntry {
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

async fn authenticate(
    state: &AppState,
    presented: &str,
) -> Result<Option<(Account, TokenRecord)>, ApiError> {
    let Some(id) = token_id(presented) else {
        return Ok(None);
    };
    let Some((stored_hash, token, account)) = state.store().authenticate(id, now()).await? else {
        return Ok(None);
    };
    let presented_hash = sha256_hex(presented.as_bytes());
    if !bool::from(presented_hash.as_bytes().ct_eq(stored_hash.as_bytes())) {
        return Ok(None);
    }
    Ok(Some((account, token)))
}
