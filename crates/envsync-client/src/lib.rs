//! envsync's client: remotes, the local workspace state and the sync engine.
//!
//! The binary resolves settings and prints; everything that touches a remote or the
//! workspace's files happens here, behind [`engine::Session`].

pub mod accounts;
pub mod choice;
mod cloud_tls;
pub mod credentials;
pub mod dotenvx;
pub mod engine;
pub mod env_vars;
pub mod environment_ref;
pub mod error;
pub mod files;
pub mod identity_store;
pub mod ledger;
pub mod membership;
pub mod records;
pub mod remote;
pub mod server_api;
pub mod server_url;
pub mod state;
pub mod stores;
pub mod target;
pub mod user_settings;
pub mod workspace;
mod write_behind;

pub use environment_ref::EnvironmentRef;
pub use error::{ClientError, ErrorKind, Result};
