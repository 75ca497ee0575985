//! Account workflows on an envsync server that take more than one call: redeeming an invite
//! or setup code (`join URL CODE`), adding a CI job (`ci add`), revoking a token (`token
//! revoke`). They live here rather than in the binary so that the CLI, the editor extension
//! and tests run the same steps in the same order; the binary only prints.

use envsync_api::{Grant, JoinResponse, NewCiToken, TokenCreated};
use envsync_core::role::Role;
use envsync_crypto::Identity;

use crate::credentials::{CredentialsConfig, ServerCredentials, Token};
use crate::engine::{AccessRequested, Session, request_access};
use crate::environment_ref::EnvironmentRef;
use crate::error::{ClientError, Result};
use crate::records::now_rfc3339;
use crate::remote::HttpRemote;
use crate::server_api::{ApiClient, code_sha256};
use crate::stores::StoreUrl;

/// What redeeming a code made: the account, and its token, already stored.
pub struct Redeemed {
    pub identity: Identity,
    /// The server's URL, normalised.
    pub server: String,
    pub token: Token,
    pub account: String,
    pub admin: bool,
    /// What the invite grants, if it names a project.
    pub grant: Option<Grant>,
}

/// Redeems `code` on the server at `url` with `identity`: an account bound to its member
/// key, and a token, which is stored in `credentials` before this returns.
pub fn redeem_code(
    url: &str,
    code: &str,
    identity: Identity,
    credentials: &CredentialsConfig,
) -> Result<Redeemed> {
    let anonymous = ApiClient::new(url, None)?;
    let server = anonymous.server().to_owned();
    let JoinResponse {
        token,
        token_id,
        account,
        admin,
        grant,
    } = anonymous.join(&identity, code)?;
    let token = Token::new(token);
    credentials.save(
        &server,
        &ServerCredentials {
            token: token.clone(),
            account: account.clone(),
            token_id: Some(token_id),
        },
    )?;
    Ok(Redeemed {
        identity,
        server,
        token,
        account,
        admin,
        grant,
    })
}

/// After redeeming an invite that grants a project, files the access request with the
/// account just made (its token, not `ENVSYNC_TOKEN`), bound to the invite's code so an
/// owner's `members accept` grants what the invite says. `None` without a grant.
pub fn request_granted_access(redeemed: &Redeemed, code: &str) -> Result<Option<AccessRequested>> {
    let Some(grant) = &redeemed.grant else {
        return Ok(None);
    };
    let filed = ApiClient::new(&redeemed.server, Some(redeemed.token.clone())).and_then(|api| {
        let remote = HttpRemote::new(api);
        let invite = Some(code_sha256(code));
        request_access(&remote, &redeemed.identity, &grant.project, invite)
    });
    filed
        .map(Some)
        .map_err(|failure| ClientError::JoinedWithoutRequest {
            server: redeemed.server.clone(),
            account: redeemed.account.clone(),
            project: grant.project.clone(),
            failure: Box::new(failure),
        })
}

/// A CI job added by [`add_ci_member`]: its identity exists only here, in memory, for the
/// caller to show once.
pub struct CiMember {
    pub identity: Identity,
    pub created: TokenCreated,
}

/// `envsync ci add`: a new identity named `name` becomes a reader of `place` (so versions
/// are encrypted to it), with a CI token bound to its member key (so the server lets it read
/// that environment and nothing else). The token comes first: if it is refused, nothing has
/// changed; if adding the member then fails, the token is revoked again.
///
/// With `store`, the identity is written into that cloud secret before anything else: a
/// store that refuses changes nothing, and a later failure leaves only an identity that is
/// no member of anything.
pub fn add_ci_member(
    session: &mut Session,
    api: &ApiClient,
    place: &EnvironmentRef,
    name: &str,
    expires_in_seconds: Option<u64>,
    store: Option<&StoreUrl>,
) -> Result<CiMember> {
    let identity = Identity::generate(name);
    if let Some(url) = store {
        let text = zeroize::Zeroizing::new(identity.to_identity_file(&now_rfc3339()));
        crate::stores::put(url, &text)?;
    }
    let key = identity.member_key().clone();
    let created = api.create_ci_token(
        &place.project,
        &NewCiToken {
            name: name.to_owned(),
            environment: place.environment.clone(),
            member_key: key.to_string(),
            expires_in_seconds,
        },
    )?;
    let added = session.members_add(
        &place.project,
        key.as_str(),
        name,
        Role::Reader,
        Some(vec![place.environment.clone()]),
    );
    if let Err(failure) = added {
        let revoked = api.revoke_token(&created.info.id).is_ok();
        return Err(ClientError::CiMemberNotAdded {
            name: name.to_owned(),
            token_id: created.info.id,
            revoked,
            failure: Box::new(failure),
        });
    }
    Ok(CiMember { identity, created })
}

/// `envsync token revoke ID`: revokes the token on `server`; when it is the token this
/// machine stores for that server, forgets it too (it is dead now), rather than fail on
/// the next call. Returns whether it was forgotten.
pub fn revoke_token(
    api: &ApiClient,
    credentials: &CredentialsConfig,
    server: &str,
    id: &str,
) -> Result<bool> {
    api.revoke_token(id)?;
    let stored = credentials.get(server)?;
    let ours = stored.is_some_and(|stored| stored.token_id.as_deref() == Some(id));
    Ok(ours && credentials.remove(server)?)
}
