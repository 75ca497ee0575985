//! The HTTP API under `/api/v1` (paths and bodies in envsync-api), described by the OpenAPI
//! document served at `/api/openapi.json`.

mod access;
mod audit;
mod auth;
mod error;
mod events;
mod invites;
mod join;
mod json;
mod members;
mod openapi;
mod signatures;
mod tokens;
mod versions;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use envsync_api::{CODE_PREFIX, MAX_BODY_BYTES, SECRET_BYTES, TOKEN_ID_LENGTH, TOKEN_PREFIX};
use rand::RngCore;

pub use error::ApiError;

use crate::store::{Store, StoreError};

/// What every handler shares. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    events: Arc<events::EventHub>,
    behind_proxy: bool,
}

impl AppState {
    pub async fn new(store: Store, behind_proxy: bool) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner {
                events: events::EventHub::start(store.clone()).await?,
                store,
                behind_proxy,
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn events(&self) -> &events::EventHub {
        &self.inner.events
    }

    /// Closes the event sockets, so a graceful shutdown only waits for real requests.
    pub fn begin_shutdown(&self) {
        self.inner.events.stop();
    }

    pub(crate) fn behind_proxy(&self) -> bool {
        self.inner.behind_proxy
    }
}

/// Requests slower than this are cut off with 408: a stuck client cannot hold a
/// connection, and with it a database connection, forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    let project = "/api/v1/projects/{project}";
    let environment = "/api/v1/projects/{project}/environments/{environment}";
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/v1/health", get(openapi::health))
        .route("/api/v1/join", post(join::join))
        .route("/api/v1/whoami", get(tokens::whoami))
        .route("/api/v1/events", get(events::events))
        .route("/api/v1/audit", get(audit::server_page))
        .route("/api/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/api/v1/tokens/{id}", delete(tokens::revoke))
        .route(&format!("{project}/members"), get(members::log))
        .route(
            &format!("{project}/members/{{number}}"),
            put(members::append),
        )
        .route(&format!("{project}/requests"), get(members::requests))
        .route(&format!("{project}/grants"), get(members::grants))
        .route(
            &format!("{project}/requests/{{fingerprint}}"),
            put(members::put_request).delete(members::delete_request),
        )
        .route(&format!("{project}/invites"), post(invites::create))
        .route(
            &format!("{project}/invites/{{code_sha256}}"),
            get(invites::get),
        )
        .route(
            &format!("{project}/environments"),
            get(versions::environments),
        )
        .route(&format!("{project}/ci-tokens"), post(tokens::create_ci))
        .route(&format!("{project}/audit"), get(audit::page))
        .route(&format!("{environment}/head"), get(versions::head))
        .route(&format!("{environment}/versions"), get(versions::list))
        .route(
            &format!("{environment}/versions/{{number}}"),
            get(versions::get).put(versions::create),
        )
        .route(
            &format!("{environment}/objects/{{sha256}}"),
            get(versions::object),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::from_fn(time_limit))
        .with_state(state)
}

/// Answers 408 with the API's JSON error to a request not done in [`REQUEST_TIMEOUT`].
async fn time_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout(format!(
            "the request took longer than {} s",
            REQUEST_TIMEOUT.as_secs()
        ))
        .into_response(),
    }
}

/// Answers 413 at once to a request whose `Content-Length` is over the limit, so a client
/// sending a huge body learns it from the headers alone (the limit on reading still applies
/// to bodies of undeclared length).
async fn refuse_declared_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        let mut response = ApiError::too_large(format!(
            "request body is larger than {MAX_BODY_BYTES} bytes"
        ))
        .into_response();
        // The unread body stays on the connection: close it rather than read gigabytes.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(request).await
}

/// [`SECRET_BYTES`] random bytes from the OS, as unpadded base64url.
fn random_text() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A one-time code: an invite, or the owner setup code.
pub fn new_code() -> String {
    format!("{CODE_PREFIX}{}", random_text())
}

/// A token and its public id: `esk_<id>_<secret>`. The id lets the server find the row
/// without looking anything up by the secret; the secret is compared by hash in constant
/// time.
fn new_token() -> (String, String) {
    let mut id = [0u8; TOKEN_ID_LENGTH / 2];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let id: String = id.iter().map(|byte| format!("{byte:02x}")).collect();
    let token = format!("{TOKEN_PREFIX}{id}_{}", random_text());
    (token, id)
}

/// The public id inside a token, if it has the shape [`new_token`] makes.
fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == TOKEN_ID_LENGTH
        && id.bytes().all(|byte| byte.is_ascii_hexdigit())
        && !secret.is_empty())
    .then_some(id)
}

/// The current time in unix seconds, as the store records it.
pub fn unix_now() -> i64 {
    now()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_id() {
        let (token, id) = new_token();
        assert_eq!(token_id(&token), Some(id.as_str()));
        assert_ne!(new_token().0, token);
        assert_eq!(token_id("esk_zz_secret"), None);
        assert_eq!(token_id("esk_0123456789ab_"), None);
        assert_eq!(token_id("bearer"), None);
    }
}
