//! Where versions live. Every remote is untrusted: it may read, drop, replay or forge bytes,
//! so it only ever sees ciphertext and signed records, and everything it returns is verified
//! by the sync engine, not here.

mod ahead;
pub(crate) mod bucket;
mod folder;
mod git;
mod head;
mod http;
mod layout;

use std::path::{Path, PathBuf};

pub use ahead::Ahead;
pub use bucket::BucketRemote;
pub use folder::FolderRemote;
pub use git::{GitLocation, GitRemote};
pub use http::{EventSource, EventStream, HttpRemote, Live, Subscription};

pub use envsync_api::HeadWith;

use crate::credentials::CredentialsConfig;
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::records::{
    AccessRequest, MembershipEvent, PublicationRecord, SignedInvite, VersionRecord,
};
use crate::server_url::is_server_url;

pub trait Remote {
    /// A human description for messages, e.g. `folder /mnt/team/envsync`.
    fn describe(&self) -> String;

    /// The newest version number of an environment, `None` before its first push.
    fn head(&self, place: &EnvironmentRef) -> Result<Option<u64>>;

    /// [`Remote::head`] and, where the remote can send them in the same request (a
    /// server), the head's record and, `with` [`HeadWith::Version`], its ciphertext: what
    /// the caller reads next anyway. Elsewhere only the number, and the caller reads the
    /// rest as before. Only transport: the engine verifies what comes exactly as it
    /// verifies each read alone.
    fn head_with(&self, place: &EnvironmentRef, _with: HeadWith) -> Result<ReadHead> {
        Ok(ReadHead {
            number: self.head(place)?,
            shown: None,
        })
    }

    fn version(&self, place: &EnvironmentRef, number: u64) -> Result<VersionRecord>;

    fn ciphertext(&self, place: &EnvironmentRef, sha256: &str) -> Result<Vec<u8>>;

    /// Creates the record's version number if and only if it does not exist yet; `false`
    /// means another push took that number first. The ciphertext is stored before the
    /// record becomes visible, so a visible version is always complete.
    fn create_version(&self, record: &VersionRecord, ciphertext: &[u8]) -> Result<bool>;

    /// Creates new versions of several environments, one each, in order, each as
    /// [`Remote::create_version`] would: whether each of the first ones was created. A
    /// version past the end of the answer was not sent, or its request failed and its fate
    /// is unknown: the caller sends each of those alone, which says why. A remote that can
    /// take them in one request (a server) overrides this.
    fn create_versions(&self, versions: &[(&VersionRecord, &[u8])]) -> Vec<bool> {
        let mut created = Vec::with_capacity(versions.len());
        for (record, ciphertext) in versions {
            match self.create_version(record, ciphertext) {
                Ok(outcome) => created.push(outcome),
                Err(_) => break,
            }
        }
        created
    }

    /// The project's membership log, oldest first.
    fn membership(&self, project: &str) -> Result<Vec<MembershipEvent>>;

    /// The project's membership log from entry `first` on, oldest first: where the remote can
    /// read part of it, what a machine that folded the entries before needs.
    fn membership_from(&self, project: &str, first: u64) -> Result<Vec<MembershipEvent>> {
        let mut events = self.membership(project)?;
        events.retain(|event| event.body.number >= first);
        Ok(events)
    }

    /// Appends an event at its number if that number is free; `false` on a lost race.
    fn append_membership(&self, event: &MembershipEvent) -> Result<bool>;

    fn access_requests(&self, project: &str) -> Result<Vec<AccessRequest>>;

    fn put_access_request(&self, request: &AccessRequest) -> Result<()>;

    fn delete_access_request(&self, project: &str, fingerprint: &str) -> Result<()>;

    /// Every environment of `project` that has versions on the remote, so that membership
    /// changes cover the whole project, not just the environments one clone links.
    fn environments(&self, project: &str) -> Result<Vec<String>>;

    /// The environment's publication records (`envsync publish`), oldest first. The engine
    /// verifies them; a remote only leaves out what does not parse.
    fn publications(&self, place: &EnvironmentRef) -> Result<Publications>;

    /// Creates the record's number if and only if it is free; `false` when it is taken.
    fn append_publication(&self, record: &PublicationRecord) -> Result<bool>;

    /// The owner-signed invite redeemed with the code whose SHA-256 is `code_sha256`, where
    /// the remote keeps invites (a server): what accepting its joiner grants unless the
    /// owner says otherwise. `None` elsewhere. Callers verify it.
    fn signed_invite(&self, _project: &str, _code_sha256: &str) -> Result<Option<SignedInvite>> {
        Ok(None)
    }

    /// Every owner-signed invite of `project` in one request, where the remote keeps them
    /// and lists them to the caller (a server, to its owners): each one's JSON, keyed by
    /// the code SHA-256 that [`Remote::signed_invite`] would be asked with. `None` where it
    /// has not, and the engine asks for each alone. Only transport: callers parse and
    /// verify each exactly as one read alone.
    fn signed_invites(&self, _project: &str) -> Result<Option<SignedInvites>> {
        Ok(None)
    }

    /// The head of every environment of `project` that the caller may read, in one request,
    /// where the remote has such a read (an envsync server); `None` where it has not, and
    /// the engine asks [`Remote::head`] and [`Remote::version`] environment by environment.
    /// Only transport: each record is verified by the engine exactly as one read alone is.
    /// An environment left out (no version yet, or not readable) is asked for alone.
    fn heads(&self, _project: &str) -> Result<Option<ShownHeads>> {
        Ok(None)
    }

    /// The same remote, for reads on another thread while this one reads too ([`Ahead`]),
    /// where overlapping reads pays: a server, whose reads are round trips (the handle
    /// shares its connection pool and opens a connection of its own when none is free).
    /// `None` elsewhere.
    fn detached(&self) -> Option<Box<dyn Remote + Send>> {
        None
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

/// A project's owner-signed invites as one read of [`Remote::signed_invites`] showed them:
/// each one's JSON, unparsed, by its code's SHA-256.
pub type SignedInvites = std::collections::BTreeMap<String, Vec<u8>>;

/// Environments' heads as one read of [`Remote::heads`] showed them, by environment.
pub type ShownHeads = std::collections::BTreeMap<String, ShownHead>;

/// One environment's head from [`Remote::heads`] or [`Remote::head_with`]: its number and
/// the record's bytes, not parsed until the environment is asked for, so that a garbled
/// record of an environment the command does not touch fails nothing, as it did when each
/// was read alone.
#[derive(Debug, Clone)]
pub struct ShownHead {
    pub number: u64,
    pub record: Vec<u8>,
    /// The ciphertext the record names, when the read brought it ([`HeadWith::Version`]):
    /// checked against the record's digest before use, as a fetched one is.
    pub ciphertext: Option<Vec<u8>>,
}

/// An environment's head as one [`Remote::head_with`] read it: the number (`None` before
/// the first push) and, where the remote sent it along, the head itself.
#[derive(Debug, Clone)]
pub struct ReadHead {
    pub number: Option<u64>,
    pub shown: Option<ShownHead>,
}

impl ShownHead {
    /// The record, parsed as [`Remote::version`] parses the same bytes.
    pub fn record(&self, place: &EnvironmentRef) -> Result<VersionRecord> {
        let what = format!("version {} of {place}", self.number);
        Ok(VersionRecord::from_json(&self.record, &what)?)
    }
}

/// An environment's publication log as a remote holds it.
#[derive(Debug, Clone, Default)]
pub struct Publications {
    /// The records that parse, oldest first; not verified yet.
    pub records: Vec<PublicationRecord>,
    /// The highest number taken, by a record or by anything else at a record's name: the
    /// next record goes after it.
    pub last_number: u64,
}

/// The remotes this build can open, for messages that refuse another.
pub const SUPPORTED_REMOTES: &str = "an envsync server (http(s)://HOST:PORT), an s3://, gs:// \
    or az:// bucket URL, a git repository (git+ssh://, git+https://, git+file:// or \
    git:REMOTE_NAME, each with an optional #branch), a folder path or a file:// URL";

/// What `remote` in `envsync.toml` names, worked out once: every place that needs the kind
/// of remote asks this instead of matching on the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteSpec {
    /// An envsync server, `http(s)://host[:port]`, as written.
    Server(String),
    /// An `s3://`, `gs://` or `az://` bucket URL, as written.
    Bucket(String),
    /// A folder, as written (a path, relative to the workspace root, or after `file://`).
    Folder(PathBuf),
    /// A branch of a git repository.
    Git(GitLocation),
}

impl RemoteSpec {
    /// Parses `spec`, refusing an empty one, an unknown scheme or a malformed bucket URL,
    /// so that `init` refuses what nothing could use before `envsync.toml` names it.
    pub fn parse(spec: &str) -> Result<Self> {
        if spec.trim().is_empty() {
            return Err(ClientError::Input(format!(
                "the remote is empty; use {SUPPORTED_REMOTES}"
            )));
        }
        if let Some(location) = GitLocation::parse(spec) {
            return location.map(Self::Git);
        }
        if let Some(path) = spec.strip_prefix("file://") {
            return Ok(Self::Folder(PathBuf::from(path)));
        }
        if is_server_url(spec) {
            return Ok(Self::Server(spec.to_owned()));
        }
        match spec.split_once("://") {
            Some(("s3" | "gs" | "az", _)) => {
                bucket::check_spec(spec)?;
                Ok(Self::Bucket(spec.to_owned()))
            }
            Some((scheme, _)) => Err(ClientError::Input(format!(
                "remote `{spec}`: envsync cannot use a `{scheme}://` remote; use {SUPPORTED_REMOTES}"
            ))),
            None => Ok(Self::Folder(PathBuf::from(spec))),
        }
    }

    pub fn is_server(&self) -> bool {
        matches!(self, Self::Server(_))
    }

    pub fn is_bucket(&self) -> bool {
        matches!(self, Self::Bucket(_))
    }

    pub fn is_git(&self) -> bool {
        matches!(self, Self::Git(_))
    }

    /// A folder's path resolved from `workspace_root`; `None` for other kinds.
    pub fn folder_in(&self, workspace_root: &Path) -> Option<PathBuf> {
        match self {
            Self::Folder(path) => Some(workspace_root.join(path)),
            _ => None,
        }
    }

    /// Opens the remote. A relative folder path is taken from the workspace root, so every
    /// teammate's clone resolves it the same way; a server gets its token from
    /// `credentials`.
    pub fn open(
        &self,
        workspace_root: &Path,
        credentials: &CredentialsConfig,
    ) -> Result<Box<dyn Remote>> {
        Ok(match self {
            Self::Server(url) => Box::new(HttpRemote::open(url, credentials)?),
            Self::Bucket(url) => Box::new(BucketRemote::open(url)?),
            Self::Folder(path) => Box::new(FolderRemote::new(&workspace_root.join(path))),
            Self::Git(location) => Box::new(GitRemote::open(location, workspace_root)?),
        })
    }
}

/// Opens the remote named in `envsync.toml` (see [`RemoteSpec`]).
pub fn open(
    spec: &str,
    workspace_root: &Path,
    credentials: &CredentialsConfig,
) -> Result<Box<dyn Remote>> {
    RemoteSpec::parse(spec)
        .map_err(|error| ClientError::Input(format!("envsync.toml: {error}")))?
        .open(workspace_root, credentials)
}

#[cfg(test)]
mod spec_tests {
    use super::RemoteSpec;

    #[test]
    fn each_kind_of_remote_is_told_apart_once() {
        assert!(
            RemoteSpec::parse("https://envsync.example")
                .unwrap()
                .is_server()
        );
        assert!(RemoteSpec::parse("s3://bucket/prefix").unwrap().is_bucket());
        let folder = RemoteSpec::parse("../remote").unwrap();
        assert_eq!(
            folder.folder_in(std::path::Path::new("/repo")),
            Some(std::path::PathBuf::from("/repo/../remote"))
        );
        assert_eq!(
            RemoteSpec::parse("file:///mnt/team").unwrap(),
            RemoteSpec::Folder("/mnt/team".into())
        );
        assert!(
            RemoteSpec::parse("git+file:///srv/app.git#env")
                .unwrap()
                .is_git()
        );
        for bad in ["", "git+ftp:///x", "ftp://host/x", "git:origin#-x"] {
            assert!(RemoteSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
