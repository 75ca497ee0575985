//! The API's paths. Project and environment names are validated by envsync-core to
//! `[A-Za-z0-9._-]`, so they need no escaping; fingerprints and numbers neither.

use crate::PREFIX;

pub fn health() -> String {
    format!("{PREFIX}/health")
}

/// `POST`: trade an invite or setup code for an account and a token.
pub fn join() -> String {
    format!("{PREFIX}/join")
}

/// `GET`: who the token belongs to and what it may do.
pub fn whoami() -> String {
    format!("{PREFIX}/whoami")
}

/// `GET` the caller's tokens, `POST` a new personal access token.
pub fn tokens() -> String {
    format!("{PREFIX}/tokens")
}

/// `DELETE`: revoke a token by its id.
pub fn token(id: &str) -> String {
    format!("{PREFIX}/tokens/{id}")
}

pub fn project(project: &str) -> String {
    format!("{PREFIX}/projects/{project}")
}

/// `GET` the membership log.
pub fn members(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/members")
}

/// `PUT` membership event `number` (create-only).
pub fn member_event(project: &str, number: u64) -> String {
    format!("{PREFIX}/projects/{project}/members/{number}")
}

/// `GET` pending access requests.
pub fn requests(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/requests")
}

/// `PUT` (file or replace) or `DELETE` one access request.
pub fn request(project: &str, fingerprint: &str) -> String {
    format!("{PREFIX}/projects/{project}/requests/{fingerprint}")
}

/// `GET` every accepted account's role on the project (owners), and separately the accounts
/// still pending: an invite grants nothing until an owner's membership entry admits the key.
pub fn grants(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/grants")
}

/// `POST` a new invite (owners).
pub fn invites(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/invites")
}

/// `POST` a CI token (owners).
pub fn ci_tokens(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/ci-tokens")
}

/// `GET` a page of the project's audit log (owners).
pub fn audit(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/audit")
}

/// `GET` a page of the whole server's audit log (server owners): every project, joins and
/// failed sign-ins.
pub fn server_audit() -> String {
    format!("{PREFIX}/audit")
}

/// `GET` the head number.
/// `GET` the names of the project's environments that have versions (members).
pub fn environments(project: &str) -> String {
    format!("{PREFIX}/projects/{project}/environments")
}

/// `GET` the owner-signed invite redeemed with the code of this SHA-256 (owners).
pub fn invite(project: &str, code_sha256: &str) -> String {
    format!("{PREFIX}/projects/{project}/invites/{code_sha256}")
}

pub fn head(project: &str, environment: &str) -> String {
    format!("{PREFIX}/projects/{project}/environments/{environment}/head")
}

/// `GET` version records above `?after=N`, at most `?limit=`.
pub fn versions(project: &str, environment: &str) -> String {
    format!("{PREFIX}/projects/{project}/environments/{environment}/versions")
}

/// `GET` one version's record; `PUT` creates it (409 if the number is taken).
pub fn version(project: &str, environment: &str, number: u64) -> String {
    format!("{PREFIX}/projects/{project}/environments/{environment}/versions/{number}")
}

/// `GET` a ciphertext by its SHA-256 (an age file, `application/octet-stream`).
pub fn object(project: &str, environment: &str, sha256: &str) -> String {
    format!("{PREFIX}/projects/{project}/environments/{environment}/objects/{sha256}")
}

/// WebSocket: live events of the projects the token may read.
pub fn events() -> String {
    format!("{PREFIX}/events")
}
