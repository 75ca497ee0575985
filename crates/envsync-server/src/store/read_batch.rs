//! Concurrent authenticated reads on PostgreSQL, asked in one statement.
//!
//! A read costs PostgreSQL a statement and the server a round trip: a wake-up of a worker
//! and a backend per request, which is where a profile under load found the time went (the
//! server's share of the machine was half kernel scheduling). So the reads that arrive while
//! others are being asked wait in a queue, and the next free asker takes every one queued
//! and asks them all in one statement ([`Store::authenticate_reads`]).
//!
//! Nothing is cached and nothing is answered early: a request joins only a batch that is
//! sent after it arrived, so its answer is a moment of the database no older than the
//! request, exactly as when it was asked alone. A revocation or a push committed by any
//! replica before a request arrives is seen by it. Under light load every request finds an
//! asker free and goes alone, with no timer to wait for.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::reads::{ReadAccess, ReadRequest};
use super::{Result, Store, StoreError};

/// How many statements may be in flight at once: enough to keep PostgreSQL's two cores busy
/// while the next batch fills, few enough to leave the pool's other connections to writes.
const ASKERS: usize = 4;

/// The most reads one statement carries; more wait for the next.
const MAX_BATCH: usize = 128;

/// One queued read and where its answer goes.
struct Queued {
    request: ReadRequest,
    reply: oneshot::Sender<Result<Option<ReadAccess>>>,
}

/// The queue of a store's reads. Dropping every clone ends its task.
#[derive(Clone)]
pub(super) struct ReadBatcher {
    queue: mpsc::UnboundedSender<Queued>,
}

impl ReadBatcher {
    /// Starts the task that asks `store`'s queued reads. `store` must not itself batch (its
    /// own queue would keep the task alive for ever).
    pub(super) fn start(store: Store) -> Self {
        let (queue, queued) = mpsc::unbounded_channel();
        tokio::spawn(ask_queued(store, queued));
        Self { queue }
    }

    /// Queues `request` and waits for its answer. `None` if the task has gone (the runtime
    /// is shutting down), for the caller to ask alone.
    pub(super) async fn read(&self, request: ReadRequest) -> Option<Result<Option<ReadAccess>>> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Queued { request, reply }).ok()?;
        answer.await.ok()
    }
}

/// Takes whatever is queued, up to [`MAX_BATCH`], whenever an asker is free.
async fn ask_queued(store: Store, mut queued: mpsc::UnboundedReceiver<Queued>) {
    let askers = Arc::new(Semaphore::new(ASKERS));
    loop {
        let Ok(asker) = Arc::clone(&askers).acquire_owned().await else {
            return;
        };
        let Some(first) = queued.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queued.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            answer(&store, batch).await;
            drop(asker);
        });
    }
}

/// Asks `batch` in one statement. If PostgreSQL refuses the statement, each read is asked
/// alone, so one request's bad input (a name PostgreSQL cannot hold) fails only that
/// request; if the database cannot be reached, each is told so at once rather than after
/// waiting for it again.
async fn answer(store: &Store, batch: Vec<Queued>) {
    let (requests, replies): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|queued| (queued.request, queued.reply))
        .unzip();
    if requests.len() > 1 {
        match store.authenticate_reads(&requests).await {
            Ok(answers) => {
                for (reply, access) in replies.into_iter().zip(answers) {
                    let _ = reply.send(access);
                }
                return;
            }
            Err(StoreError::Query { url, source }) if !refused(&source) => {
                for reply in replies {
                    let source = unreachable_again(&source);
                    let _ = reply.send(Err(StoreError::Query {
                        url: url.clone(),
                        source,
                    }));
                }
                return;
            }
            Err(_) => {}
        }
    }
    let mut alone = tokio::task::JoinSet::new();
    for (request, reply) in requests.into_iter().zip(replies) {
        let store = store.clone();
        alone.spawn(async move {
            let _ = reply.send(store.read_access_alone(&request).await);
        });
    }
    while alone.join_next().await.is_some() {}
}

/// Whether PostgreSQL answered the statement with an error (about what it was asked),
/// rather than not answering.
fn refused(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(_))
}

/// The same failure to reach the database, for each request of a batch to report (sqlx's
/// errors cannot be cloned).
fn unreachable_again(error: &sqlx::Error) -> sqlx::Error {
    match error {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}
