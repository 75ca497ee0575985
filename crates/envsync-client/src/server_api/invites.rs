//! The calls that prove something with the user's identity: joining (proof of holding the
//! member key) and inviting (a code made here, terms signed here).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use envsync_api::{
    CODE_PREFIX, Invite, InviteList, JoinRequest, JoinResponse, NewInvite, SECRET_BYTES, paths,
};
use envsync_core::hash::sha256_hex;
use envsync_core::role::Role;
use envsync_crypto::Identity;
use rand::RngCore;
use serde_json::value::RawValue;
use ureq::http;

use super::{ApiClient, Subject};
use crate::error::{ClientError, Result};
use crate::records::{
    FORMAT, InviteBody, JoinProofBody, Seal, Signed, SignedInvite, now_rfc3339, now_unix,
};

/// What an owner offers in an invite.
#[derive(Debug, Clone)]
pub struct InviteTerms {
    pub role: Role,
    /// `None`: every environment.
    pub environments: Option<Vec<String>>,
    pub expires_in_seconds: i64,
}

/// How long an invite stands unless the owner says otherwise.
pub const DEFAULT_INVITE_SECONDS: i64 = 7 * 24 * 3600;

/// A fresh one-time code, `esi_` and 32 random bytes: made on the inviting owner's machine,
/// so the server only ever holds its hash.
pub fn new_invite_code() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The hash by which the server knows a code: lowercase hex SHA-256 of the trimmed code.
pub fn code_sha256(code: &str) -> String {
    sha256_hex(code.trim().as_bytes())
}

impl ApiClient {
    /// Trades an invite or the owner setup code for an account and a token, proving with a
    /// signature that `identity` holds the member key the account is bound to. Needs no
    /// token.
    pub fn join(&self, identity: &Identity, code: &str) -> Result<JoinResponse> {
        let member_key = identity.member_key().to_string();
        let name = identity.name().to_owned();
        let proof = Signed::sign(
            JoinProofBody {
                format: FORMAT,
                member_key: member_key.clone(),
                name: name.clone(),
                code_sha256: code_sha256(code),
            },
            identity,
        );
        let request = JoinRequest {
            code: code.trim().to_owned(),
            member_key,
            name,
            proof: proof.signature,
        };
        self.post_json(&paths::join(), &request, Subject::Code)
    }

    /// Makes an invite to `project`: a fresh code and the terms signed by `identity` (an
    /// owner's). Returns the code, which is shown once and travels only to the invitee.
    pub fn create_invite(
        &self,
        project: &str,
        identity: &Identity,
        terms: &InviteTerms,
    ) -> Result<(String, Invite)> {
        let code = new_invite_code();
        let hash = code_sha256(&code);
        let signed: SignedInvite = Signed::sign(
            InviteBody {
                format: FORMAT,
                project: project.to_owned(),
                code_sha256: hash.clone(),
                role: terms.role,
                environments: terms.environments.clone(),
                created_by: identity.member_key().to_string(),
                created_at: now_rfc3339(),
                expires_at: now_unix() + terms.expires_in_seconds,
            },
            identity,
        );
        let signed = RawValue::from_string(String::from_utf8_lossy(&signed.to_json()).into())
            .map_err(|error| ClientError::Input(format!("signed invite: {error}")))?;
        let request = NewInvite {
            code_sha256: hash,
            signed,
        };
        let invite = self.post_json(
            &paths::invites(project),
            &request,
            Subject::Project(project),
        )?;
        Ok((code, invite))
    }

    /// Every invite to `project`, newest first (owners): hashes and terms, never codes.
    pub fn list_invites(&self, project: &str) -> Result<InviteList> {
        self.get_json(&paths::invites(project), Subject::Project(project))
    }

    /// Revokes the unredeemed invite whose code has this SHA-256 (owners). One that was
    /// redeemed or revoked already is a conflict, with the server's reason.
    pub fn revoke_invite(&self, project: &str, code_sha256: &str) -> Result<()> {
        let well_formed = code_sha256.len() == 64
            && code_sha256
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
        if !well_formed {
            return Err(ClientError::Input(format!(
                "`{code_sha256}` is not an invite's code SHA-256 (see `envsync invite list`)"
            )));
        }
        let path = paths::invite(project, code_sha256);
        let reply = self.call(http::Method::DELETE, &path, None)?;
        self.require_status(reply, &[204], Subject::Invite(project))
            .map(drop)
    }
}
