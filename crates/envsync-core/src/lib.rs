//! envsync's formats and rules.
//!
//! Everything here is pure: no files, no network, no terminal. The client and the binary do
//! the I/O around these decisions, which keeps them deterministic and property-testable.

pub mod config;
pub mod credentials;
pub mod dotenv;
pub mod expand;
pub mod hash;
pub mod merge;
pub mod records;
pub mod role;
pub mod selection;
pub mod share;
pub mod status;
