//! Live events: a WebSocket at `/api/v1/events` tells each watcher, as it happens, that an
//! environment it may read has a new head or that a project's membership changed. Events
//! carry names and numbers only; the watcher fetches and verifies the records itself.
//!
//! On SQLite (one server) events go straight to this process's subscribers; on PostgreSQL
//! they go through NOTIFY / LISTEN so that watchers on every replica hear them. An event
//! lost on the way (a watcher too slow, a dropped listener connection) closes the affected
//! sockets, and a reconnecting client catches up by comparing heads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use envsync_api::paths::route;
use envsync_api::{Event, Grant};
use tokio::sync::{broadcast, watch};

use super::access::grant;
use super::auth::Caller;
use super::{ApiError, AppState, now};
use crate::store::Store;

/// Events a slow watcher may fall behind by before its socket is closed.
const BUFFER: usize = 4096;
const PING_EVERY: Duration = Duration::from_secs(20);

pub struct EventHub {
    sender: broadcast::Sender<Event>,
    store: Store,
    stopping: watch::Sender<bool>,
}

impl EventHub {
    pub async fn start(store: Store) -> Result<Arc<Self>, crate::store::StoreError> {
        let (sender, _) = broadcast::channel(BUFFER);
        let (stopping, _) = watch::channel(false);
        let hub = Arc::new(Self {
            sender,
            store: store.clone(),
            stopping,
        });
        if store.shares_events() {
            let mut listener = store.listener().await?;
            let sender = hub.sender.clone();
            let mut stopped = hub.stopping.subscribe();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        notification = listener.recv() => match notification {
                            Ok(notification) => {
                                if let Ok(event) = serde_json::from_str::<Event>(notification.payload()) {
                                    let _ = sender.send(event);
                                }
                            }
                            Err(error) => {
                                tracing::warn!("event listener: {error}; reconnecting");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                    }
                }
            });
        }
        Ok(hub)
    }

    /// Tells every watcher (on every replica) about `event`. A failure is logged, not
    /// returned: the change it announces has already been stored.
    pub async fn publish(&self, event: Event) {
        if self.store.shares_events() {
            let payload = serde_json::to_string(&event).unwrap_or_default();
            if let Err(error) = self.store.notify(&payload).await {
                tracing::warn!("publishing an event: {error}");
            }
        } else {
            let _ = self.sender.send(event);
        }
    }

    /// Closes every socket: a shutdown must not wait for watchers to hang up.
    pub fn stop(&self) {
        let _ = self.stopping.send(true);
    }
}

#[utoipa::path(get, path = route::EVENTS,
    responses((status = 101, description = "WebSocket; each text message is an Event", body = Event),
        (status = 400, description = "not a WebSocket upgrade request", body = envsync_api::ErrorBody),
        (status = 401, body = envsync_api::ErrorBody),
        (status = 403, description = "a session cookie from another origin", body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if caller.by_session && !same_origin(&headers) {
        return Err(ApiError::forbidden(
            "a dashboard session's event stream opens only from the dashboard's own origin",
        ));
    }
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::bad_request(format!(
            "this path is a WebSocket; connect with an upgrade request ({})",
            rejection.body_text()
        ))
    })?;
    Ok(upgrade.on_upgrade(move |socket| stream(state, caller, socket)))
}

/// Whether the request's `Origin` is this server as the browser reached it (the `Host` it
/// sent): a browser sends cookies along with another site's WebSocket, and SameSite does
/// not stop another port or a sibling host, so the origin is checked.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let (Some(origin), Some(host)) = (text(ORIGIN), text(HOST)) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

async fn stream(state: AppState, caller: Caller, mut socket: WebSocket) {
    let _open = state.metrics().event_stream_opened();
    let hub = state.events();
    let mut receiver = hub.sender.subscribe();
    let mut stopped = hub.stopping.subscribe();
    let mut watcher = Watcher {
        state: &state,
        caller: &caller,
        grants: HashMap::new(),
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let closing = loop {
        tokio::select! {
            _ = stopped.changed() => break Some("server restarting"),
            event = receiver.recv() => match event {
                Ok(event) => match watcher.may_see(&event).await {
                    None => break Some("server database unavailable"),
                    Some(false) => {}
                    Some(true) => {
                        let text = serde_json::to_string(&event).unwrap_or_default();
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break None;
                        }
                    }
                },
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    break Some("fell behind; reconnect and catch up");
                }
                Err(broadcast::error::RecvError::Closed) => break None,
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                // A revoked or expired token stops hearing events within one ping.
                if !watcher.token_is_live().await {
                    break Some("token revoked or expired");
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some(reason) = closing {
        let frame = CloseFrame {
            code: 1012,
            reason: reason.into(),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
}

/// One socket's caller and what it may read, looked up once per project and again after
/// the project's membership changes.
struct Watcher<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    grants: HashMap<String, Option<Grant>>,
}

impl Watcher<'_> {
    /// Whether the caller may hear `event`; `None` when the database cannot say.
    async fn may_see(&mut self, event: &Event) -> Option<bool> {
        if event.environment.is_none() {
            self.grants.remove(&event.project);
        }
        if !self.grants.contains_key(&event.project) {
            let found = grant(self.state, self.caller, &event.project).await.ok()?;
            self.grants.insert(event.project.clone(), found);
        }
        let grant = self.grants.get(&event.project).and_then(Option::as_ref);
        Some(may_read(grant, event))
    }

    async fn token_is_live(&self) -> bool {
        let store = self.state.store();
        matches!(
            store.live_token(&self.caller.token.id, now()).await,
            Ok(Some(_))
        )
    }
}

fn may_read(grant: Option<&Grant>, event: &Event) -> bool {
    let Some(grant) = grant else {
        return false;
    };
    match (&event.environment, &grant.environments) {
        (Some(environment), Some(allowed)) => allowed.iter().any(|name| name == environment),
        _ => true,
    }
}
