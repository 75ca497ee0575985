//! Asking for access without a workspace: right after `envsync join URL CODE` the joiner
//! may have no `envsync.toml` yet, but the server already knows the project, so the request
//! can wait there for an owner.

use envsync_crypto::Identity;
use serde::Serialize;

use crate::error::Result;
use crate::membership::fold;
use crate::records::{
    AccessRequest, AccessRequestBody, FORMAT, Seal, Signed, now_rfc3339, now_unix,
};
use crate::remote::Remote;

/// What [`request_access`] did, for the binary to explain the next step.
#[derive(Debug, Clone, Serialize)]
pub struct AccessRequested {
    pub project: String,
    /// The requester's fingerprint; `None` when the key already is an active member.
    pub fingerprint: Option<String>,
    /// The names of the project's owners, who can accept the request.
    pub owners: Vec<String>,
}

/// Files `identity`'s signed access request for `project` on `remote` unless it already is
/// a member. The membership log is verified first, so the owners named are real ones.
pub fn request_access(
    remote: &dyn Remote,
    identity: &Identity,
    project: &str,
    invite_code_sha256: Option<String>,
) -> Result<AccessRequested> {
    let roster = fold(project, &remote.membership(project)?)?;
    let owners = roster
        .active()
        .filter(|member| member.role.can_manage_members())
        .map(|member| member.name.clone())
        .collect();
    let key = identity.member_key();
    let member = roster
        .find(key.as_str())
        .is_some_and(|member| member.is_active());
    if !member {
        let after = roster.next_number - 1;
        let request = sign_access_request(identity, project, after, invite_code_sha256);
        remote.put_access_request(&request)?;
    }
    Ok(AccessRequested {
        project: project.to_owned(),
        fingerprint: (!member).then(|| key.fingerprint()),
        owners,
    })
}

/// How long an access request stands before owners ignore it.
pub const REQUEST_SECONDS: i64 = 30 * 24 * 3600;

/// A fresh access request for `project`, signed with the key it asks access for. `after`
/// is the length of the membership log the requester saw, so that it cannot be replayed
/// after a later removal; `invite` binds it to the owner-signed invite redeemed, if any.
pub(crate) fn sign_access_request(
    identity: &Identity,
    project: &str,
    after: u64,
    invite: Option<String>,
) -> AccessRequest {
    Signed::sign(
        AccessRequestBody {
            format: FORMAT,
            project: project.to_owned(),
            member: identity.member_key().to_string(),
            name: identity.name().to_owned(),
            after,
            invite,
            created_at: now_rfc3339(),
            expires_at: now_unix() + REQUEST_SECONDS,
        },
        identity,
    )
}
