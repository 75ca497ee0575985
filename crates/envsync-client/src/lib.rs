//! envsync's client: remotes, the local workspace state and the sync engine.
//!
//! The binary resolves settings and prints; everything that touches a remote or the
//! workspace's files happens here, behind [`engine::Session`].

pub mod credentials;
pub mod engine;
pub mod error;
pub mod files;
pub mod identity_store;
pub mod ledger;
pub mod membership;
pub mod records;
pub mod remote;
pub mod server_api;
pub mod state;
pub mod workspace;

pub use error::{ClientError, ErrorKind, Result};
