use std::path::PathBuf;

use envsync_core::config::ConfigError;
use envsync_core::credentials::CredentialsError;
use envsync_core::dotenv::DotenvError;
use envsync_core::role::Role;
use envsync_core::share::ShareBundleError;

use crate::environment_ref::EnvironmentRef;

/// How a failure should be reported: the binary maps each kind to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: arguments, `envsync.toml`, a file envsync cannot read.
    Input,
    /// The remote moved or keys conflict: `envsync sync` resolves it.
    Conflict,
    /// Writing would overwrite unpushed local edits.
    LocalChanges,
    /// Identity, membership, recipients or trust stand in the way.
    Access,
    /// A version, blob or log failed verification: forged, tampered or corrupt.
    Integrity,
    /// Anything else: I/O, an unreachable remote.
    Other,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("no envsync.toml in {0} or any parent directory")]
    NoWorkspace(PathBuf),
    #[error("{path}:{source}")]
    Config { path: PathBuf, source: ConfigError },
    #[error("{0}")]
    Input(String),
    /// An opened `.share` bundle that `join` cannot use.
    #[error("{0}")]
    ShareBundle(#[from] ShareBundleError),
    /// A credentials file that does not parse: the message names the place, not the text,
    /// which holds tokens.
    #[error(
        "{} is not a valid envsync credentials file ({source}): fix or delete it, then run \
         `envsync login URL`",
        path.display()
    )]
    Credentials {
        path: PathBuf,
        source: CredentialsError,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Dotenv(#[from] DotenvError),
    #[error("no identity at {0}")]
    NoIdentity(PathBuf),
    #[error("identity {origin} is unusable: {reason}")]
    BadIdentity { origin: String, reason: String },
    #[error("{0}")]
    Access(String),
    #[error("{0}")]
    Integrity(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    LocalChanges(String),
    #[error("{0}")]
    Remote(String),
    /// A cloud secret store (an identity's, a publish target's) failed.
    #[error("{url}: {failure}")]
    Store {
        url: String,
        failure: crate::stores::StoreFailure,
    },
    /// A linked file, or a directory above it, is a symlink that leaves the workspace:
    /// following it would push another file or write plaintext elsewhere.
    #[error(
        "{}{link} is a symlink to {target}, which is not inside the workspace {root}; envsync \
         reads and writes linked files only inside it",
        if file == link { String::new() } else { format!("{file}: ") }
    )]
    LinkOutsideWorkspace {
        file: String,
        link: String,
        target: PathBuf,
        root: PathBuf,
    },
    /// `ENVSYNC_TOKEN` is set but `ENVSYNC_SERVER` does not name the server about to be
    /// called: the remote may come from a pull request's `envsync.toml`.
    #[error("{}", token_refusal(remote, token_server.as_deref()))]
    TokenForAnotherServer {
        remote: String,
        token_server: Option<String>,
    },
    /// A change was made (a membership entry written) and a later step failed: the message
    /// says what was done, so that nobody runs the command again to make it twice.
    #[error("{done}, but finishing failed: {failure}")]
    AfterChange {
        done: String,
        failure: Box<ClientError>,
    },
    /// The remote head is not the version the workspace is based on: `envsync sync` merges.
    /// With no head at all while a base exists, the remote lost versions (integrity).
    #[error("{}", remote_moved(place, file, *head, *base))]
    RemoteMoved {
        place: EnvironmentRef,
        /// The linked file, as written in `envsync.toml`.
        file: String,
        head: Option<u64>,
        base: Option<u64>,
    },
    /// Another push took the version number first.
    #[error(
        "someone else pushed version {number} of {place} first: run `envsync sync` to merge \
         their changes"
    )]
    PushRace { place: EnvironmentRef, number: u64 },
    /// Another membership change took the entry number first.
    #[error("the members of project `{project}` changed at the same moment: run the command again")]
    MembershipRace { project: String },
    /// Keys changed differently here and on the remote, and nobody chose.
    #[error(
        "{} key(s) of {file} changed differently here and on the remote (version {head}): {}. \
         Nothing was written. Run `envsync sync` on a terminal to choose, or pass --ours, \
         --theirs or --resolve KEY=ours|theirs|stdin",
        keys.len(),
        keys.join(", ")
    )]
    Unmerged {
        file: String,
        head: u64,
        keys: Vec<String>,
    },
    /// Not a member of the project. The read path says so with `request_filed: false`;
    /// commands that ask for access on the user's behalf file the request and say so.
    #[error("{}", not_a_member(project, name, fingerprint, *request_filed))]
    NotAMember {
        project: String,
        name: String,
        fingerprint: String,
        request_filed: bool,
    },
    /// A member who cannot decrypt a version: it was encrypted before they could read it.
    #[error("{}", not_a_recipient(place, *version, readers, fingerprint))]
    NotARecipient {
        place: EnvironmentRef,
        version: u64,
        /// Members who may write here and could read it.
        readers: Vec<String>,
        /// This member's fingerprint, for `members accept`.
        fingerprint: String,
    },
    /// The member's role does not include the environment.
    #[error(
        "your role on project `{project}` ({role}) does not cover `{environment}`: ask an owner \
         ({owners}) for access to it"
    )]
    RoleDoesNotCover {
        project: String,
        role: Role,
        environment: String,
        owners: String,
    },
    /// An active member whose role may not push to the environment.
    #[error(
        "you are a {role} of project `{project}` and may not push to `{environment}`: ask an \
         owner for write access"
    )]
    MayNotPush {
        project: String,
        role: Role,
        environment: String,
    },
    /// Only an owner may do this; `doing` says what ("change its members").
    #[error("only an owner of project `{project}` can {doing}; ask one of: {owners}")]
    NotAnOwner {
        project: String,
        doing: String,
        owners: String,
    },
    /// Readers of the environment whose keys this user has not accepted: nothing is
    /// encrypted to a key without the user's consent.
    #[error(
        "{} member key(s) of project `{project}` are new to you: {}. Check them with their \
         owners, then run `envsync members accept --all` (or pass --yes)",
        keys.len(),
        keys.join(", ")
    )]
    UntrustedKeys { project: String, keys: Vec<String> },
    /// The remote shows less than a version known to exist: versions were deleted or hidden.
    #[error(
        "{place} went back: the remote shows {}, but version {floor} exists (the record \
         {vouched_by}). Versions were deleted or hidden; nothing was written. If the remote was \
         restored from a backup, run `envsync repair` to put back what this machine verified",
        shows.map_or_else(|| "no versions".to_owned(), |head| format!("version {head}"))
    )]
    WentBack {
        place: EnvironmentRef,
        shows: Option<u64>,
        floor: u64,
        /// Who vouches for the floor ("this machine verified on …").
        vouched_by: String,
    },
    /// A version known here differs on the remote.
    #[error(
        "version {version} of {place} was rewritten on the remote: it is not the record \
         {vouched_by}; nothing was written"
    )]
    Rewritten {
        place: EnvironmentRef,
        version: u64,
        vouched_by: String,
    },
    /// A ciphertext whose SHA-256 is not the one its signed record names.
    #[error(
        "the ciphertext of version {version} of {place} is corrupt (its SHA-256 does not match \
         the signed record)"
    )]
    CorruptCiphertext { place: EnvironmentRef, version: u64 },
    /// The workspace's own copy of its base does not decrypt.
    #[error(
        "the local base of {place} does not decrypt with your identity; delete .envsync/{place} \
         and run `envsync sync`"
    )]
    LocalBaseUnreadable { place: EnvironmentRef },
    /// The linked file is missing; `hint` says what to run.
    #[error("{file}: no such file; {hint}")]
    NoLinkedFile { file: String, hint: &'static str },
    /// `envsync.toml` names no such environment for the project.
    #[error(
        "project `{project}` has no environment `{environment}` in envsync.toml (it has: {})",
        known.join(", ")
    )]
    NoSuchEnvironment {
        project: String,
        environment: String,
        known: Vec<String>,
    },
    /// A protected environment reached without `--env` (through a branch mapping or
    /// `envsync use`): protected environments are only ever acted on by name.
    #[error(
        "{place} is protected, and {chosen_by} chose it: a protected environment takes an \
         explicit --env"
    )]
    ProtectedNeedsEnv {
        place: EnvironmentRef,
        /// What chose it: "branch `main` (pattern `main`)", "`envsync use`".
        chosen_by: String,
    },
    /// `envsync use` of a protected environment: it would make it the one commands without
    /// `--env` act on, which protection forbids.
    #[error(
        "{place} is protected: `envsync use` cannot make it the environment commands act on \
         without --env; nothing was changed"
    )]
    ProtectedNotUsable { place: EnvironmentRef },
    /// The environment's linked file holds another environment on this machine
    /// (`envsync use`): reading or writing it for this one would mix the two.
    #[error(
        "{file} holds {project}/{holder} on this machine (`envsync use {holder}`), not \
         {project}/{environment}"
    )]
    FileHeldByUse {
        project: String,
        environment: String,
        file: String,
        holder: String,
    },
    /// `ci add`: the CI token was created but adding its member failed; the token was
    /// revoked again, or the message says how to.
    #[error(
        "adding {name} as a member failed, so its CI token {token_id} was {}",
        if *revoked {
            "revoked again"
        } else {
            "created but not revoked: run `envsync token revoke` with that id"
        }
    )]
    CiMemberNotAdded {
        name: String,
        token_id: String,
        revoked: bool,
        #[source]
        failure: Box<ClientError>,
    },
    /// `join URL CODE`: the account exists and its token is stored, but filing the access
    /// request failed.
    #[error(
        "joined {server} as account {account}, but asking for access to project `{project}` \
         failed; `envsync pull` in the workspace asks again"
    )]
    JoinedWithoutRequest {
        server: String,
        account: String,
        project: String,
        #[source]
        failure: Box<ClientError>,
    },
    /// This user's key was removed from the project: nothing is filed, nothing retried.
    #[error(
        "you were removed from project `{project}` by {by} on {at}; ask an owner to add you \
         again if that was a mistake"
    )]
    Removed {
        project: String,
        by: String,
        at: String,
    },
}

fn remote_moved(
    place: &EnvironmentRef,
    file: &str,
    head: Option<u64>,
    base: Option<u64>,
) -> String {
    match (head, base) {
        (Some(head), Some(base)) => format!(
            "{place} is at version {head} on the remote but you are based on version {base}: run \
             `envsync sync`"
        ),
        (Some(head), None) => format!(
            "{place} already has {head} version(s) on the remote and {file} was never synced: run \
             `envsync sync` to merge it"
        ),
        (None, Some(base)) => format!(
            "{place} has no versions on the remote, but you pulled version {base} from it: is \
             this the right remote?"
        ),
        (None, None) => "nothing to compare".to_owned(),
    }
}

fn not_a_member(project: &str, name: &str, fingerprint: &str, request_filed: bool) -> String {
    if request_filed {
        format!(
            "you ({name}, {fingerprint}) are not a member of project `{project}` yet. Your \
             access request is now on the remote: ask an owner to run `envsync members accept \
             {fingerprint}` on their machine, then run this command again"
        )
    } else {
        format!(
            "you ({name}, {fingerprint}) are not a member of project `{project}` yet: `envsync \
             pull` asks its owners for access"
        )
    }
}

fn not_a_recipient(
    place: &EnvironmentRef,
    version: u64,
    readers: &[String],
    fingerprint: &str,
) -> String {
    let readers = if readers.is_empty() {
        "no current member who may write here (an owner can supersede it with `envsync \
         rollback N --supersede`)"
            .to_owned()
    } else {
        readers.join(", ")
    };
    format!(
        "you are not a recipient of version {version} of {place}: it was encrypted before you \
         could read it. It can be read by {readers}, who can roll back to it or, if it is the \
         newest, re-encrypt it to you with `envsync members accept {fingerprint}`"
    )
}

fn token_refusal(remote: &str, token_server: Option<&str>) -> String {
    match token_server {
        Some(token_server) => format!(
            "ENVSYNC_TOKEN belongs to ENVSYNC_SERVER={token_server}, but the remote here is \
             {remote}: envsync sends the token to no other server (if {remote} is right, set \
             ENVSYNC_SERVER to it)"
        ),
        None => format!(
            "ENVSYNC_TOKEN is set without ENVSYNC_SERVER: set ENVSYNC_SERVER to the URL of the \
             server the token belongs to (the remote here is {remote}); envsync sends the token \
             to that server only"
        ),
    }
}

impl ClientError {
    /// What to run instead, for the `hint:` line under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            ClientError::ProtectedNeedsEnv { place, .. } => Some(format!(
                "run the command again with `--env {}` if you mean it",
                place.environment
            )),
            ClientError::ProtectedNotUsable { place } => Some(format!(
                "pass `--env {}` to each command that should act on it",
                place.environment
            )),
            ClientError::FileHeldByUse {
                project,
                environment,
                ..
            } => Some(format!(
                "run `envsync use --reset -p {project}` to make it hold {environment} again"
            )),
            _ => None,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::AfterChange { failure, .. }
            | ClientError::CiMemberNotAdded { failure, .. }
            | ClientError::JoinedWithoutRequest { failure, .. } => failure.kind(),
            ClientError::NoWorkspace(_)
            | ClientError::Config { .. }
            | ClientError::Input(_)
            | ClientError::ShareBundle(_)
            | ClientError::Credentials { .. }
            | ClientError::Dotenv(_)
            | ClientError::NoLinkedFile { .. }
            | ClientError::NoSuchEnvironment { .. }
            | ClientError::ProtectedNeedsEnv { .. }
            | ClientError::ProtectedNotUsable { .. }
            | ClientError::FileHeldByUse { .. }
            | ClientError::LinkOutsideWorkspace { .. } => ErrorKind::Input,
            ClientError::NoIdentity(_)
            | ClientError::BadIdentity { .. }
            | ClientError::Access(_)
            | ClientError::NotAMember { .. }
            | ClientError::NotARecipient { .. }
            | ClientError::RoleDoesNotCover { .. }
            | ClientError::MayNotPush { .. }
            | ClientError::NotAnOwner { .. }
            | ClientError::UntrustedKeys { .. }
            | ClientError::TokenForAnotherServer { .. }
            | ClientError::Removed { .. } => ErrorKind::Access,
            ClientError::RemoteMoved {
                head: None,
                base: Some(_),
                ..
            }
            | ClientError::Integrity(_)
            | ClientError::WentBack { .. }
            | ClientError::Rewritten { .. }
            | ClientError::CorruptCiphertext { .. }
            | ClientError::LocalBaseUnreadable { .. } => ErrorKind::Integrity,
            ClientError::Conflict(_)
            | ClientError::RemoteMoved { .. }
            | ClientError::PushRace { .. }
            | ClientError::MembershipRace { .. }
            | ClientError::Unmerged { .. } => ErrorKind::Conflict,
            ClientError::LocalChanges(_) => ErrorKind::LocalChanges,
            ClientError::Store { failure, .. } => match failure {
                crate::stores::StoreFailure::NotFound => ErrorKind::Input,
                crate::stores::StoreFailure::Denied { .. }
                | crate::stores::StoreFailure::NoCredentials(_) => ErrorKind::Access,
                _ => ErrorKind::Other,
            },
            ClientError::Io { .. } | ClientError::Remote(_) => ErrorKind::Other,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ClientError::Io {
            what: what.into(),
            source,
        }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
