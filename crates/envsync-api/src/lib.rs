//! The envsync server's HTTP API, as both sides of it compile it: the server (which answers)
//! and the client's HTTP remote (which asks). Keeping paths, bodies and error codes in one
//! crate means a change to the protocol cannot compile on one side only.
//!
//! Every path is under [`PREFIX`]. Requests authenticate with `Authorization: Bearer TOKEN`.
//! Errors are [`ErrorBody`] JSON with a stable [`ErrorBody::code`]. A project the caller has
//! no role on answers 404, the same as a project that does not exist.
//!
//! The signed records the bodies carry (versions, membership events, access requests,
//! invites, join proofs) are `envsync_core::records`' types: one contract for both sides.

pub mod paths;
mod types;

pub use paths::route::PREFIX;
pub use types::*;

/// The largest request body the server reads. An `.env` file is kilobytes; this leaves room
/// for very large ones (base64 adds a third) and refuses a 2 GB upload before reading it.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Server tokens start with this, so a leaked one is recognisable (secret scanners, `guard`).
pub const TOKEN_PREFIX: &str = "esk_";
/// Invite codes and the owner setup code start with this.
pub const CODE_PREFIX: &str = "esi_";
/// A token's public id, in hex digits: `esk_<id>_<secret>`.
pub const TOKEN_ID_LENGTH: usize = 12;
/// Random bytes behind a token's secret and behind a code: nobody guesses 256 bits.
pub const SECRET_BYTES: usize = 32;
/// [`SECRET_BYTES`] as unpadded base64url text, the length the secret or code has on the
/// wire; the guard recognises leaked ones by it.
pub const SECRET_TEXT_LENGTH: usize = (SECRET_BYTES * 4).div_ceil(3);
