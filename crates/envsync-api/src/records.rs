//! The parts of a signed record the server reads. The server cannot verify signatures (it
//! does not link envsync-crypto), so it trusts these fields only to file a record in the
//! right place and to check the caller's role; every client verifies the whole record.
//! Field names are those of envsync-client's record bodies; a client test parses real
//! records with these types, so the two cannot drift apart.

use envsync_core::role::Role;
use serde::Deserialize;

/// `{"body": …, "signature": …}`; unknown body fields are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordHeader<T> {
    pub body: T,
    pub signature: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionHeader {
    pub project: String,
    pub environment: String,
    pub number: u64,
    pub base: Option<u64>,
    pub author: String,
    /// Older records may lack it; it only labels events.
    #[serde(default)]
    pub author_name: Option<String>,
    pub ciphertext_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipAction {
    Add,
    Remove,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MembershipHeader {
    pub project: String,
    pub number: u64,
    pub action: MembershipAction,
    pub member: String,
    pub role: Role,
    pub environments: Option<Vec<String>>,
    pub actor: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccessRequestHeader {
    pub project: String,
    pub member: String,
    pub name: String,
}
