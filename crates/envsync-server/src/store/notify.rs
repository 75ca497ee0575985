//! Live events across replicas: with PostgreSQL, every replica publishes through
//! `NOTIFY` and hears every replica's events (its own included) through `LISTEN`, so a
//! watcher connected to one replica learns of a push made on another.

use sqlx::postgres::PgListener;

use super::{Backend, Result, Store};

const CHANNEL: &str = "envsync_events";

impl Store {
    /// Whether events must go through the database because other replicas may share it.
    pub fn shares_events(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// Publishes `payload` to every replica's listener.
    pub async fn notify(&self, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(())
    }

    /// A listener on the events channel, on a connection of its own. It reconnects by
    /// itself when the connection drops.
    pub async fn listener(&self) -> Result<PgListener> {
        let mut listener = PgListener::connect(&self.connect_url)
            .await
            .map_err(|source| self.query_error(source))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(|source| self.query_error(source))?;
        Ok(listener)
    }
}
