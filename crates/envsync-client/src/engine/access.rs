//! Asking for access without a workspace: right after `envsync join URL CODE` the joiner
//! may have no `envsync.toml` yet, but the server already knows the project, so the request
//! can wait there for an owner.

use envsync_crypto::Identity;
use serde::Serialize;

use super::{ProjectView, Session};
use crate::error::{ClientError, Result};
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

impl Session {
    /// Puts this user's signed access request on the remote (idempotent). A request filed
    /// again keeps the invite the first one named, so a pull while waiting cannot unbind
    /// it from the owner-signed invite.
    pub(crate) fn file_access_request(
        &mut self,
        view: &ProjectView,
        invite: Option<String>,
    ) -> Result<()> {
        let own = self.identity()?.member_key().to_string();
        let filed = self.access_requests(view)?;
        let invite = invite.or_else(|| {
            filed
                .iter()
                .find(|request| request.body.member == own)
                .and_then(|request| request.body.invite.clone())
        });
        let after = view.roster.next_number - 1;
        let request = sign_access_request(self.identity()?, &view.project, after, invite);
        self.remote.put_access_request(&request)
    }

    /// The refusal for a user who is not an active member, after filing their access
    /// request so an owner sees it in `envsync status`: the one write a refused command
    /// makes, done here where the command decides to make it. A removed user files nothing.
    pub(crate) fn ask_for_access(&mut self, view: &ProjectView) -> Result<ClientError> {
        let refusal = self.not_a_member(view)?;
        self.filing_request_for(view, refusal)
    }

    /// `error`, unless it says this user is not a member yet: then the access request is
    /// filed and the error says so.
    pub(crate) fn filing_request_for(
        &mut self,
        view: &ProjectView,
        error: ClientError,
    ) -> Result<ClientError> {
        match error {
            ClientError::NotAMember {
                project,
                name,
                fingerprint,
                request_filed: false,
            } => {
                self.file_access_request(view, None)?;
                Ok(ClientError::NotAMember {
                    project,
                    name,
                    fingerprint,
                    request_filed: true,
                })
            }
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::engine::{Session, SessionOptions};
    use crate::error::ClientError;
    use crate::identity_store::IdentityConfig;
    use crate::remote::FolderRemote;
    use crate::workspace::Workspace;

    /// A session for `name` in its own clone of a workspace on the folder remote `remote`.
    fn session(home: &Path, remote: &Path, name: &str) -> Session {
        let root = home.join(name);
        std::fs::create_dir_all(&root).unwrap();
        let config = format!(
            "remote = \"{}\"\n\n[projects.app.environments]\ndev = \".env\"\n",
            remote.display()
        );
        std::fs::write(root.join("envsync.toml"), config).unwrap();
        std::fs::write(root.join(".env"), format!("OWNER={name}\n")).unwrap();
        let identity = IdentityConfig {
            override_value: None,
            override_source: Default::default(),
            default_path: home.join(format!("{name}.identity.txt")),
            default_name: name.into(),
            use_keychain: false,
        };
        Session::with_remote(
            Workspace::load(&root).unwrap(),
            Box::new(FolderRemote::new(remote)),
            identity,
            SessionOptions::default(),
        )
    }

    #[test]
    fn saying_who_is_not_a_member_files_nothing_and_asking_files_once() {
        let home = tempfile::tempdir().unwrap();
        let remote = home.path().join("remote");
        std::fs::create_dir_all(&remote).unwrap();
        let mut alice = session(home.path(), &remote, "alice");
        let target = alice.workspace.target(None, None).unwrap();
        alice.push(&target, "found").unwrap();

        let mut bob = session(home.path(), &remote, "bob");
        let view = bob.project_view("app").unwrap();
        let requests = remote.join("app").join("requests");
        let refusal = bob.not_a_member(&view).unwrap();
        assert!(
            matches!(
                refusal,
                ClientError::NotAMember {
                    request_filed: false,
                    ..
                }
            ),
            "{refusal}"
        );
        assert!(!requests.exists(), "a read filed a request");

        let asked = bob.ask_for_access(&view).unwrap();
        assert!(
            asked
                .to_string()
                .contains("Your access request is now on the remote")
        );
        assert_eq!(std::fs::read_dir(&requests).unwrap().count(), 1);
        let view = bob.project_view("app").unwrap();
        let requests = bob.access_requests(&view).unwrap();
        assert_eq!(requests.len(), 1, "the request is signed and current");
    }
}
