//! The sync engine: each user-facing operation as a method on [`Session`], one file each.
//! Decisions (badges, merges) come from `envsync-core`; this layer fetches, verifies,
//! decrypts, and writes.

mod access;
mod diff;
mod log;
mod members;
mod pull;
mod push;
mod read;
mod repair;
mod rotation;
mod session;
mod share;
mod status;
mod sync;
mod verify;

pub use access::{AccessRequested, request_access};
pub use diff::{DiffSide, KeyDiff};
pub use log::LogEntry;
pub use members::{Acceptance, MemberRow, MemberStatus, Removal};
pub use pull::PullOutcome;
pub use push::PushOutcome;
pub use repair::Repaired;
pub use rotation::PendingRotation;
pub use session::{ProjectView, Session, SessionOptions};
pub use share::{Joined, join};
pub use status::{PendingMember, StatusReport, StatusRow};
pub use sync::SyncOutcome;
