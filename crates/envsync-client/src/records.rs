//! The signed records a remote stores: versions, membership events and access requests.
//!
//! Each is a `{"body": …, "signature": …}` JSON document. The signature covers a domain tag
//! and the canonical JSON of the body as envsync serialises it, so a record moved to another
//! project, environment or number, or edited in any field, no longer verifies.

use std::collections::BTreeMap;

use envsync_core::hash::sha256_hex;
use envsync_core::role::Role;
use envsync_crypto::{Identity, MemberKey, Signature};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

pub const FORMAT: u32 = 1;

/// A record body that can be signed: it names its signer and its signature domain.
pub trait Signable: Serialize + DeserializeOwned + Clone {
    const DOMAIN: &'static str;
    /// The member key (text) expected to have signed this body.
    fn signer(&self) -> &str;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signed<T> {
    pub body: T,
    pub signature: String,
}

impl<T: Signable> Signed<T> {
    pub fn sign(body: T, identity: &Identity) -> Self {
        let signature = identity.sign(&signed_bytes(&body)).to_base64();
        Self { body, signature }
    }

    /// The digest that the next record in a chain names as its parent.
    pub fn digest(&self) -> String {
        sha256_hex(&signed_bytes(&self.body))
    }

    /// Checks the signature against the signer the body names; says nothing about whether
    /// that signer is trusted, which is the caller's decision.
    pub fn verify_signature(&self) -> Result<MemberKey> {
        let signer: MemberKey = self
            .body
            .signer()
            .parse()
            .map_err(|error| ClientError::Integrity(format!("{}: {error}", T::DOMAIN)))?;
        let signature = Signature::from_base64(&self.signature)
            .map_err(|error| ClientError::Integrity(format!("{}: {error}", T::DOMAIN)))?;
        signer
            .verify(&signed_bytes(&self.body), &signature)
            .map_err(|_| {
                ClientError::Integrity(format!("{} signature does not verify", T::DOMAIN))
            })?;
        Ok(signer)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("records always serialise");
        bytes.push(b'\n');
        bytes
    }

    pub fn from_json(bytes: &[u8], what: &str) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|error| ClientError::Integrity(format!("{what} is corrupt: {error}")))
    }
}

fn signed_bytes<T: Signable>(body: &T) -> Vec<u8> {
    let mut bytes = format!("envsync {} v{FORMAT}\n", T::DOMAIN).into_bytes();
    serde_json::to_writer(&mut bytes, body).expect("records always serialise");
    bytes
}

/// Key names touched by a version, so `log` can say what changed without decrypting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl From<envsync_core::merge::KeyChanges> for ChangeSummary {
    fn from(changes: envsync_core::merge::KeyChanges) -> Self {
        Self {
            added: changes.added,
            removed: changes.removed,
            changed: changes.changed,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionBody {
    pub format: u32,
    pub project: String,
    pub environment: String,
    pub number: u64,
    pub base: Option<u64>,
    /// Digest of version `number - 1`, chaining the history so it cannot be reordered.
    pub parent_digest: Option<String>,
    pub author: String,
    pub author_name: String,
    pub created_at: String,
    pub message: String,
    pub keys: Vec<String>,
    pub changes: ChangeSummary,
    pub recipients: Vec<String>,
    pub ciphertext_sha256: String,
    pub ciphertext_size: u64,
}

impl Signable for VersionBody {
    const DOMAIN: &'static str = "version";
    fn signer(&self) -> &str {
        &self.author
    }
}

pub type VersionRecord = Signed<VersionBody>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipAction {
    Add,
    Remove,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipBody {
    pub format: u32,
    pub project: String,
    pub number: u64,
    pub parent_digest: Option<String>,
    pub action: MembershipAction,
    pub member: String,
    pub name: String,
    pub role: Role,
    /// `None`: every environment of the project.
    pub environments: Option<Vec<String>>,
    /// On removal: each environment's head at that moment. Versions the removed member
    /// signs after these numbers are refused.
    pub heads: BTreeMap<String, u64>,
    pub actor: String,
    pub created_at: String,
}

impl Signable for MembershipBody {
    const DOMAIN: &'static str = "membership";
    fn signer(&self) -> &str {
        &self.actor
    }
}

pub type MembershipEvent = Signed<MembershipBody>;

/// A would-be member's request for access, signed with the key it asks access for, which
/// proves the requester holds that key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessRequestBody {
    pub format: u32,
    pub project: String,
    pub member: String,
    pub name: String,
    pub created_at: String,
}

impl Signable for AccessRequestBody {
    const DOMAIN: &'static str = "access request";
    fn signer(&self) -> &str {
        &self.member
    }
}

pub type AccessRequest = Signed<AccessRequestBody>;

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
