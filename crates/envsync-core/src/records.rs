//! The signed records a remote stores: versions, publications, membership events, access
//! requests, invites, and the join proof a server checks.
//!
//! Each is a `{"body": …, "signature": …}` JSON document. The signature covers a domain tag
//! and the canonical JSON of the body as envsync serialises it, so a record moved to another
//! project, environment or number, or edited in any field, no longer verifies. The types live
//! here, with no cryptography, so that the client (which signs and verifies with
//! envsync-crypto) and the server (which verifies Ed25519 only) read one contract.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::hash::{Sha256Writer, sha256_hex};
use crate::role::Role;

/// The record format. 2 added the history pins (`membership` on versions, digests in
/// `heads`) and signed invites; format 1 records are refused.
pub const FORMAT: u32 = 2;

/// A point in a hash-chained history: record `number` had this digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pin {
    pub number: u64,
    pub digest: String,
}

/// The fingerprint envsync shows for a member key (its text): the first 8 bytes of its
/// SHA-256, as four groups of four hex digits, short enough to compare over the phone.
pub fn fingerprint(member_key: &str) -> String {
    let hex = sha256_hex(member_key.as_bytes());
    format!(
        "{}-{}-{}-{}",
        &hex[0..4],
        &hex[4..8],
        &hex[8..12],
        &hex[12..16]
    )
}

/// Checks one Ed25519 signature by a member key given as text (`age1…:<base64url>`). The
/// client implements it with envsync-crypto; the server with a bare Ed25519 verifier.
pub trait Verifier {
    fn verify(&self, member_key: &str, message: &[u8], signature: &str) -> bool;
}

/// A record body that can be signed: it names its signer and its signature domain.
pub trait Signable: Serialize + DeserializeOwned + Clone {
    const DOMAIN: &'static str;
    /// The member key (text) expected to have signed this body.
    fn signer(&self) -> &str;
    /// The records format the body says it is written in.
    fn format(&self) -> u32;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signed<T> {
    pub body: T,
    pub signature: String,
}

/// Why a record was refused before any trust decision: it does not parse or its signature
/// does not verify against the key it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{what} is not a valid record: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what}: the signature does not verify (forged or tampered)")]
    BadSignature { what: String },
}

impl<T: Signable> Signed<T> {
    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        signed_bytes(&self.body)
    }

    /// The digest that the next record in a chain names as its parent: the hash of the
    /// [signed bytes](Signed::signed_bytes), serialised straight into the hasher.
    pub fn digest(&self) -> String {
        // Gathered into blocks first: the serialiser writes a few bytes at a time.
        let mut hasher = std::io::BufWriter::with_capacity(8 * 1024, Sha256Writer::default());
        write_signed_bytes(&mut hasher, &self.body).expect("hashing cannot fail");
        hasher.into_inner().expect("hashing cannot fail").hex()
    }

    /// Checks the signature against the signer the body names; says nothing about whether
    /// that signer is trusted, which is the caller's decision.
    pub fn verify_signature(&self, verifier: &dyn Verifier, what: &str) -> Result<(), RecordError> {
        self.verify_signed_bytes(verifier, what).map(drop)
    }

    /// [`Signed::verify_signature`], returning the record's [digest](Signed::digest) too,
    /// hashed from the bytes the signature was checked on rather than serialised again.
    pub fn verify_signature_digest(
        &self,
        verifier: &dyn Verifier,
        what: &str,
    ) -> Result<String, RecordError> {
        self.verify_signed_bytes(verifier, what)
            .map(|signed| sha256_hex(&signed))
    }

    /// The signed bytes, once the signature on them verifies.
    fn verify_signed_bytes(
        &self,
        verifier: &dyn Verifier,
        what: &str,
    ) -> Result<Vec<u8>, RecordError> {
        let signed = self.signed_bytes();
        if verifier.verify(self.body.signer(), &signed, &self.signature) {
            Ok(signed)
        } else {
            Err(RecordError::BadSignature { what: what.into() })
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("records always serialise");
        bytes.push(b'\n');
        bytes
    }

    pub fn from_json(bytes: &[u8], what: &str) -> Result<Self, RecordError> {
        serde_json::from_slice(bytes).map_err(|error| RecordError::Malformed {
            what: what.into(),
            reason: error.to_string(),
        })
    }
}

/// `envsync <domain> v<format>\n` followed by the body's canonical JSON.
pub fn signed_bytes<T: Signable>(body: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_signed_bytes(&mut bytes, body).expect("writing to memory cannot fail");
    bytes
}

/// Writes [`signed_bytes`] to `out`, where only a failure of `out` itself is an error.
fn write_signed_bytes<T: Signable>(out: &mut impl std::io::Write, body: &T) -> std::io::Result<()> {
    writeln!(out, "envsync {} v{FORMAT}", T::DOMAIN)?;
    serde_json::to_writer(&mut *out, body).map_err(std::io::Error::from)
}

/// Key names touched by a version, so `log` can say what changed without decrypting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl From<crate::merge::KeyChanges> for ChangeSummary {
    fn from(changes: crate::merge::KeyChanges) -> Self {
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
    /// The version this one builds on: `number - 1`, or an earlier one for an owner's
    /// version that supersedes (voids) those in between.
    pub base: Option<u64>,
    /// Digest of version `base`, chaining the history so it cannot be reordered.
    pub parent_digest: Option<String>,
    /// The newest membership entry the author had verified: the author's role is judged as
    /// of this entry, and a reader whose log is shorter or different knows it was cut.
    pub membership: Pin,
    pub author: String,
    pub author_name: String,
    pub created_at: String,
    pub message: String,
    pub keys: Vec<String>,
    pub changes: ChangeSummary,
    pub recipients: Vec<String>,
    pub ciphertext_sha256: String,
    pub ciphertext_size: u64,
    /// Keys an owner decided need no rotation after a removal, ending the reminder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dismissed: Vec<String>,
}

impl VersionBody {
    /// Whether this version voids the versions between its base and itself.
    pub fn supersedes(&self) -> bool {
        self.base.is_some_and(|base| base + 1 < self.number)
            || (self.base.is_none() && self.number > 1)
    }
}

impl Signable for VersionBody {
    const DOMAIN: &'static str = "version";
    fn signer(&self) -> &str {
        &self.author
    }
    fn format(&self) -> u32 {
        self.format
    }
}

pub type VersionRecord = Signed<VersionBody>;

/// That an environment's version was published to a store (`envsync publish`), signed by
/// the publisher, so that `log` shows which version went where and `status` whether each
/// target was last given the head, without contacting the targets. It names key names only:
/// a value, or a digest of one that could test guesses, never goes into a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationBody {
    pub format: u32,
    pub project: String,
    pub environment: String,
    /// Its place in the environment's publication log, where records are create-only at
    /// their number, as versions are: a record copied to another slot no longer verifies.
    pub number: u64,
    /// The version published: its number and the digest of its record, so that a
    /// publication cannot be moved onto another history's version of that number.
    pub version: Pin,
    /// The newest membership entry the publisher had verified: their standing (a member who
    /// may read this environment) is judged as of this entry, as an author's is.
    pub membership: Pin,
    /// The store URL as `envsync.toml` writes it; store URLs never hold credentials.
    pub target: String,
    /// The keys the target's filter published, sorted.
    pub keys: Vec<String>,
    /// Whether keys the environment lacks were removed (`--prune`).
    pub pruned: bool,
    pub publisher: String,
    pub published_at: String,
}

impl Signable for PublicationBody {
    const DOMAIN: &'static str = "publication";
    fn signer(&self) -> &str {
        &self.publisher
    }
    fn format(&self) -> u32 {
        self.format
    }
}

pub type PublicationRecord = Signed<PublicationBody>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipAction {
    /// Admits a key, or changes an existing member's role or environments.
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
    /// Every environment's head when the entry was made. The member's earlier standing ends
    /// here: what they signed under it counts only inside these histories.
    pub heads: BTreeMap<String, Pin>,
    pub actor: String,
    pub created_at: String,
}

impl Signable for MembershipBody {
    const DOMAIN: &'static str = "membership";
    fn signer(&self) -> &str {
        &self.actor
    }
    fn format(&self) -> u32 {
        self.format
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
    /// How many membership entries the requester had seen: a request older than the key's
    /// latest removal is stale and cannot be replayed to re-admit it.
    pub after: u64,
    /// SHA-256 of the invite code the requester redeemed, binding the request to the
    /// owner-signed invite whose role it asks for.
    pub invite: Option<String>,
    pub created_at: String,
    /// Unix seconds after which owners ignore the request.
    pub expires_at: i64,
}

impl Signable for AccessRequestBody {
    const DOMAIN: &'static str = "access request";
    fn signer(&self) -> &str {
        &self.member
    }
    fn format(&self) -> u32 {
        self.format
    }
}

pub type AccessRequest = Signed<AccessRequestBody>;

/// An invite's terms, signed by the owner who made it, so that the server that stores the
/// invite cannot change the role an accepting owner grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteBody {
    pub format: u32,
    pub project: String,
    /// SHA-256 of the one-time code; the code itself never leaves the inviter and joiner.
    pub code_sha256: String,
    pub role: Role,
    pub environments: Option<Vec<String>>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: i64,
}

impl Signable for InviteBody {
    const DOMAIN: &'static str = "invite";
    fn signer(&self) -> &str {
        &self.created_by
    }
    fn format(&self) -> u32 {
        self.format
    }
}

pub type SignedInvite = Signed<InviteBody>;

/// A joiner's proof that they hold the member key they join with: the server gives an
/// account's token only to whoever signs this with the account's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinProofBody {
    pub format: u32,
    pub member_key: String,
    pub name: String,
    /// SHA-256 of the one-time code being redeemed, so a proof is good for one code only.
    pub code_sha256: String,
}

impl Signable for JoinProofBody {
    const DOMAIN: &'static str = "join";
    fn signer(&self) -> &str {
        &self.member_key
    }
    fn format(&self) -> u32 {
        self.format
    }
}

pub type JoinProof = Signed<JoinProofBody>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_the_hash_of_the_signed_bytes() {
        let proof = JoinProof {
            body: JoinProofBody {
                format: FORMAT,
                member_key: "age1example:key".into(),
                name: "Zoë \"quoted\"\n\u{1F511} \\ tab\t".repeat(500),
                code_sha256: sha256_hex(b"code"),
            },
            signature: String::new(),
        };
        let signed = proof.signed_bytes();
        assert!(signed.starts_with(b"envsync join v2\n{\"format\":2,"));
        assert_eq!(proof.digest(), sha256_hex(&signed));
    }
}
