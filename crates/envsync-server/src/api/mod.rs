//! The HTTP API under `/api/v1` (paths and bodies in envsync-api), described by the OpenAPI
//! document served at `/api/openapi.json`.

mod access;
mod audit;
mod auth;
mod contract;
mod dashboard;
mod error;
mod events;
mod grants;
mod invites;
mod join;
mod json;
mod log;
mod metrics;
mod openapi;
mod publications;
mod push;
mod reader;
mod requests;
mod session;
mod signatures;
mod tokens;
mod versions;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, post, put};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use envsync_api::paths::route;
use envsync_api::{CODE_PREFIX, MAX_BODY_BYTES, SECRET_BYTES, TOKEN_ID_LENGTH, TOKEN_PREFIX};
use rand::RngCore;

pub use dashboard::{CONTENT_SECURITY_POLICY, UNLOCK_SCRIPT, assets as dashboard_assets};
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
    metrics: Arc<metrics::Metrics>,
    options: Options,
}

/// How the server is deployed, as far as handlers care.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Take the client address from `X-Forwarded-For` (see [`auth::Source`]).
    pub behind_proxy: bool,
    /// Served over TLS: the dashboard's session cookie is `Secure`.
    pub tls: bool,
    /// The dashboard may decrypt values in the browser (`--dashboard-unlock`): the page
    /// offers *Unlock* and the unlock script is served; off, neither.
    pub dashboard_unlock: bool,
}

impl AppState {
    pub async fn new(store: Store, options: Options) -> Result<Self, StoreError> {
        Ok(Self {
            inner: Arc::new(Inner {
                events: events::EventHub::start(store.clone()).await?,
                metrics: metrics::Metrics::new(),
                store,
                options,
            }),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn events(&self) -> &events::EventHub {
        &self.inner.events
    }

    pub(crate) fn metrics(&self) -> &Arc<metrics::Metrics> {
        &self.inner.metrics
    }

    /// Closes the event sockets, so a graceful shutdown only waits for real requests.
    pub fn begin_shutdown(&self) {
        self.inner.events.stop();
    }

    pub(crate) fn behind_proxy(&self) -> bool {
        self.inner.options.behind_proxy
    }

    pub(crate) fn options(&self) -> Options {
        self.inner.options
    }
}

/// Requests slower than this are cut off with 408: a stuck client cannot hold a
/// connection, and with it a database connection, forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every route the API answers: a template from envsync-api's [`route`] and its handlers.
/// The OpenAPI document lists the same (a test holds them to it).
fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (route::OPENAPI, get(openapi::document)),
        (route::DASHBOARD, get(dashboard::page)),
        (route::DASHBOARD_ASSET, get(dashboard::asset)),
        (route::HEALTH, get(openapi::health)),
        (route::READY, get(metrics::ready)),
        (route::METRICS, get(metrics::metrics)),
        (route::JOIN, post(join::join)),
        (route::WHOAMI, get(tokens::whoami)),
        (route::EVENTS, get(events::events)),
        (
            route::SESSION,
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        ),
        (route::SIGN_IN_CODES, post(session::new_code)),
        (route::SERVER_AUDIT, get(audit::server_page)),
        (route::TOKENS, get(tokens::list).post(tokens::create)),
        (route::TOKEN, delete(tokens::revoke)),
        (route::MEMBERS, get(log::log)),
        (route::MEMBER_EVENT, put(log::append)),
        (route::REQUESTS, get(requests::requests)),
        (route::GRANTS, get(grants::grants)),
        (
            route::REQUEST,
            put(requests::put_request).delete(requests::delete_request),
        ),
        (route::INVITES, get(invites::list).post(invites::create)),
        (route::INVITE, get(invites::get).delete(invites::revoke)),
        (route::ENVIRONMENTS, get(versions::environments)),
        (route::CI_TOKENS, post(tokens::create_ci)),
        (route::AUDIT, get(audit::page)),
        (route::HEADS, get(versions::heads)),
        (route::NEW_VERSIONS, post(push::create_many)),
        (route::HEAD, get(versions::head)),
        (route::VERSIONS, get(versions::list)),
        (route::VERSION, get(versions::get).put(push::create)),
        (route::OBJECT, get(versions::object)),
        (route::PUBLICATIONS, get(publications::list)),
        (route::PUBLICATION, put(publications::append)),
    ]
}

pub fn router(state: AppState) -> Router {
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handlers)| {
            router.route(path, handlers)
        })
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn(finish_writes))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Runs a request that may write (any method but GET, HEAD, OPTIONS, TRACE) to its end, in a
/// task of its own. A client that disconnects, or [`time_limit`], drops the request's future:
/// a commit already sent to the database then landed without the read-cache evictions that
/// follow it, so a member an owner had just admitted kept a cached "no role", and a revoked
/// token could stay cached as valid (found by `tests/crash.rs`, a client killed mid-accept).
async fn finish_writes(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.method().is_safe() {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => ApiError::unavailable("the server is shutting down; try again").into_response(),
    }
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

    /// A client that sends a write and goes before the answer does not stop the write: its
    /// commit and the cache evictions after it run to their end.
    #[tokio::test]
    async fn a_write_runs_to_its_end_when_its_client_goes() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::AsyncWriteExt;
        use tokio::sync::Notify;

        let started = Arc::new(Notify::new());
        let finished = Arc::new(AtomicBool::new(false));
        let handler = {
            let (started, finished) = (started.clone(), finished.clone());
            move || async move {
                started.notify_one();
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                finished.store(true, Ordering::SeqCst);
            }
        };
        let app = Router::new()
            .route("/write", axum::routing::post(handler))
            .layer(axum::middleware::from_fn(finish_writes));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = b"POST /write HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n";
        client.write_all(request).await.unwrap();
        started.notified().await;
        drop(client);
        for _ in 0..100 {
            if finished.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the write stopped when its client went");
    }
}
