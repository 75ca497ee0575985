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
use axum::response::Response;
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

#[utoipa::path(get, path = "/api/v1/events",
    responses((status = 101, description = "WebSocket; each text message is an Event", body = Event),
        (status = 400, description = "not a WebSocket upgrade request", body = envsync_api::ErrorBody),
        (status = 401, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::bad_request(format!(
            "this path is a WebSocket; connect with an upgrade request ({})",
            rejection.body_text()
        ))
    })?;
    Ok(upgrade.on_upgrade(move |socket| stream(state, caller, socket)))
}

async fn stream(state: AppState, caller: Caller, mut socket: WebSocket) {
    let hub = state.events();
    let mut receiver = hub.sender.subscribe();
    let mut stopped = hub.stopping.subscribe();
    let mut grants: HashMap<String, Option<Grant>> = HashMap::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let close = |reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code: 1012,
            reason: reason.into(),
        }))
    };
    loop {
        tokio::select! {
            _ = stopped.changed() => {
                let _ = socket.send(close("server restarting")).await;
                break;
            }
            event = receiver.recv() => match event {
                Ok(event) => {
                    if event.environment.is_none() {
                        grants.remove(&event.project);
                    }
                    if !grants.contains_key(&event.project) {
                        let Ok(found) = grant(&state, &caller, &event.project).await else {
                            let _ = socket.send(close("server database unavailable")).await;
                            break;
                        };
                        grants.insert(event.project.clone(), found);
                    }
                    if !may_read(grants.get(&event.project).and_then(Option::as_ref), &event) {
                        continue;
                    }
                    let text = serde_json::to_string(&event).unwrap_or_default();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = socket.send(close("fell behind; reconnect and catch up")).await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                // A revoked or expired token stops hearing events within one ping.
                match state.store().live_token(&caller.token.id, now()).await {
                    Ok(Some(_)) => {}
                    _ => {
                        let _ = socket.send(close("token revoked or expired")).await;
                        break;
                    }
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
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
