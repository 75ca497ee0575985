//! Where versions live. Every remote is untrusted: it may read, drop, replay or forge bytes,
//! so it only ever sees ciphertext and signed records, and everything it returns is verified
//! by the sync engine, not here.

mod bucket;
mod folder;
mod http;

use std::path::Path;

pub use bucket::BucketRemote;
pub use folder::FolderRemote;
pub use http::{EventSource, EventStream, HttpRemote, Live, Subscription};

use crate::credentials::{CredentialsConfig, is_server_url};
use crate::error::{ClientError, Result};
use crate::records::{AccessRequest, MembershipEvent, SignedInvite, VersionRecord};

pub trait Remote {
    /// A human description for messages, e.g. `folder /mnt/team/envsync`.
    fn describe(&self) -> String;

    /// The newest version number of an environment, `None` before its first push.
    fn head(&self, project: &str, environment: &str) -> Result<Option<u64>>;

    fn version(&self, project: &str, environment: &str, number: u64) -> Result<VersionRecord>;

    fn ciphertext(&self, project: &str, environment: &str, sha256: &str) -> Result<Vec<u8>>;

    /// Creates the record's version number if and only if it does not exist yet; `false`
    /// means another push took that number first. The ciphertext is stored before the
    /// record becomes visible, so a visible version is always complete.
    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool>;

    /// The project's membership log, oldest first.
    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>>;

    /// Appends an event at its number if that number is free; `false` on a lost race.
    fn append_membership(&self, event: &MembershipEvent) -> Result<bool>;

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>>;

    fn put_access_request(&self, request: &AccessRequest) -> Result<()>;

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()>;

    /// Every environment of `project` that has versions on the remote, so that membership
    /// changes cover the whole project, not just the environments one clone links.
    fn environments(&self, project: &str) -> Result<Vec<String>>;

    /// The owner-signed invite redeemed with the code whose SHA-256 is `code_sha256`, where
    /// the remote keeps invites (a server): what accepting its joiner grants unless the
    /// owner says otherwise. `None` elsewhere. Callers verify it.
    fn signed_invite(&self, _project: &str, _code_sha256: &str) -> Result<Option<SignedInvite>> {
        Ok(None)
    }

    /// A local directory whose changes mean the remote changed (a folder remote's root), so
    /// `envsync watch` can react to filesystem events instead of polling.
    fn watch_directory(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Where to hear of changes as they happen (an envsync server's WebSocket), so that
    /// `envsync watch` need not poll. A source rather than a stream: the watcher reconnects
    /// from a thread of its own.
    fn events(&self) -> Option<EventSource> {
        None
    }
}

/// Opens the remote named in `envsync.toml`: an envsync server (`http://`, `https://`),
/// a bucket URL (`s3://`, `gs://`, `az://`) or a folder. A relative folder path is taken
/// from the workspace root, so every teammate's clone resolves it the same way. Servers
/// get their token from `credentials`.
/// The remotes this build can open, for messages that refuse another.
pub const SUPPORTED_REMOTES: &str = "an envsync server (http(s)://HOST:PORT), an s3://, gs:// \
    or az:// bucket URL, a folder path or a file:// URL";

/// Checks that `spec` names a remote this build can open, without opening it: `init` uses
/// it so that a remote nothing can use is refused before `envsync.toml` names it.
pub fn check_spec(spec: &str) -> Result<()> {
    if spec.trim().is_empty() {
        return Err(ClientError::Input(format!(
            "the remote is empty; use {SUPPORTED_REMOTES}"
        )));
    }
    if spec.starts_with("file://") || is_server_url(spec) {
        return Ok(());
    }
    match spec.split_once("://") {
        Some(("s3" | "gs" | "az", _)) => bucket::check_spec(spec),
        Some((scheme, _)) => Err(ClientError::Input(format!(
            "remote `{spec}`: envsync cannot use a `{scheme}://` remote; use {SUPPORTED_REMOTES}"
        ))),
        None => Ok(()),
    }
}

pub fn open(
    spec: &str,
    workspace_root: &Path,
    credentials: &CredentialsConfig,
) -> Result<Box<dyn Remote>> {
    if let Some(path) = spec.strip_prefix("file://") {
        return Ok(Box::new(FolderRemote::new(&workspace_root.join(path))));
    }
    if is_server_url(spec) {
        return Ok(Box::new(HttpRemote::open(spec, credentials)?));
    }
    if let Some((scheme, _)) = spec.split_once("://") {
        if matches!(scheme, "s3" | "gs" | "az") {
            return Ok(Box::new(BucketRemote::open(spec)?));
        }
        return Err(ClientError::Input(format!(
            "envsync.toml: remote `{spec}`: the `{scheme}://` remote is not available in this build; use {SUPPORTED_REMOTES}"
        )));
    }
    Ok(Box::new(FolderRemote::new(&workspace_root.join(spec))))
}
