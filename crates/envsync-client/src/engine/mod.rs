//! The sync engine: each user-facing operation as a method on [`Session`], one file each.
//! Decisions (badges, merges) come from `envsync-core`; this layer fetches, verifies,
//! decrypts, and writes.

mod access;
mod diff;
mod dry_run;
mod key_names;
mod local;
mod log;
mod members;
mod publications;
mod publish;
mod publish_to;
mod pull;
mod pull_all;
mod push;
mod read;
mod reencrypt;
mod repair;
mod rotation;
mod session;
mod share;
mod status;
mod sync;
mod use_env;
mod verify;

pub use access::{AccessRequested, request_access};
pub use diff::{DiffSide, KeyDiff};
pub use dry_run::{DryRun, PlannedVersion};
pub use key_names::{key_name_diffs, require_local};
pub use log::LogEntry;
pub use members::{Acceptance, MemberRow, MemberStatus, Removal};
pub use publications::{Publication, PublishedVersion, TargetStatus};
pub use pull::PullOutcome;
pub use push::PushOutcome;
pub use reencrypt::UnrevokedHead;
pub use repair::Repaired;
pub use rotation::PendingRotation;
pub use session::{ProjectView, Session, SessionOptions};
pub use share::{BundleJoined, join};
pub use status::{CurrentEnvironment, PendingMember, StatusReport, StatusRow};
pub use sync::SyncOutcome;
pub use use_env::UseOutcome;
