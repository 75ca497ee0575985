//! The envsync sync server. It keeps what clients push (ciphertext, signed records, key
//! names, metadata) and cannot decrypt any of it: this crate does not link envsync-crypto.

mod api;
mod serve;
pub mod store;

pub use serve::{ServerConfig, ServerError, run};
