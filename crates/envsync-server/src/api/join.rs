//! Joining: trading a one-time code (an invite, or the owner setup code) for an account
//! bound to the joiner's member key, and a personal access token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use envsync_api::paths::route;
use envsync_api::{Grant, JoinRequest, JoinResponse, TokenKind};
use envsync_core::hash::sha256_hex;
use envsync_core::records::{FORMAT, JoinProofBody, Verifier, signed_bytes};
use rand::RngCore;

use super::auth::{Source, refuse};
use super::contract::{check_label, well_formed_member_key};
use super::json::ApiJson;
use super::signatures::Ed25519Verifier;
use super::{ApiError, AppState, new_token, now};
use crate::store::{Account, NewAuditEntry, NewToken, Transaction};

#[utoipa::path(post, path = route::JOIN,
    request_body = JoinRequest,
    responses((status = 201, body = JoinResponse),
        (status = 400, body = envsync_api::ErrorBody),
        (status = 401, body = envsync_api::ErrorBody,
            description = "the code is invalid, used, expired or revoked (the message says \
                           revoked), or the proof does not verify"),
        (status = 429, body = envsync_api::ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<(StatusCode, Json<JoinResponse>), ApiError> {
    let name = checked_name(&request)?;
    let code_hash = sha256_hex(request.code.trim().as_bytes());
    check_proof(&state, source, &request, &code_hash).await?;
    let store = state.store();
    let existing = store.account_by_member_key(&request.member_key).await?;
    let account_id = existing
        .as_ref()
        .map_or_else(|| new_account_id(name), |account| account.id.clone());
    let at = now();
    // Everything below is one transaction: the code is spent only if the account, its
    // role and its token all exist afterwards, and a refused join changes nothing.
    let mut transaction = store.begin().await?;
    let Some(redeemed) = redeem(&mut transaction, &code_hash, &account_id, at).await? else {
        drop(transaction);
        return Err(refused_code(&state, source, &code_hash).await);
    };
    let admin = matches!(redeemed, Redeemed::Owner);
    let joiner = Joiner {
        existing,
        id: account_id,
        name,
        member_key: &request.member_key,
    };
    let account = account_for(&mut transaction, joiner, admin, at).await?;
    let grant = match redeemed {
        Redeemed::Invite(grant) => Some(grant),
        Redeemed::Owner => None,
    };
    // An invite grants nothing by itself: the account waits until an owner admits its key
    // in the signed membership log (see log::apply_to_grants).
    if let Some(grant) = &grant
        && store.grant(&account.id, &grant.project).await?.is_none()
    {
        transaction
            .add_pending(&account.id, &grant.project, &code_hash, at)
            .await?;
    }
    let (token, token_id) = issue_join_token(&mut transaction, &account.id, at).await?;
    audit_join(&mut transaction, &account.id, grant.as_ref(), source, at).await?;
    transaction.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(JoinResponse {
            token,
            token_id,
            account: account.id,
            admin: account.admin,
            grant,
        }),
    ))
}

/// The 401 for a code that redeems nothing, counted as a failed sign-in. A revoked invite
/// says so: whoever holds its code was given it, and should ask for a new one rather than
/// retype it. Any other code gets one message, telling a stranger nothing.
async fn refused_code(state: &AppState, source: Source, code_hash: &str) -> ApiError {
    if let Err(error) = refuse(state, source, "join.failed", "code").await {
        return error;
    }
    match state.store().invite_revoked(code_hash).await {
        Ok(true) => ApiError::unauthorized(
            "the invite was revoked by an owner of its project: ask them for a new one",
        ),
        Ok(false) => ApiError::unauthorized(
            "the code is not valid: it may be mistyped, used already or expired",
        ),
        Err(error) => error.into(),
    }
}

/// Refuses (and counts as a failed sign-in) a join whose proof does not verify. Member keys
/// are public: without proof of the key, any code would buy its account.
async fn check_proof(
    state: &AppState,
    source: Source,
    request: &JoinRequest,
    code_hash: &str,
) -> Result<(), ApiError> {
    if proof_verifies(request, code_hash) {
        return Ok(());
    }
    refuse(state, source, "join.refused", "proof").await?;
    Err(ApiError::unauthorized(
        "the join proof does not verify with this member key: sign it with the identity the \
         key belongs to",
    ))
}

/// Whether the request's proof is the member key's signature over the join it asks for.
fn proof_verifies(request: &JoinRequest, code_hash: &str) -> bool {
    let body = JoinProofBody {
        format: FORMAT,
        member_key: request.member_key.clone(),
        name: request.name.clone(),
        code_sha256: code_hash.to_owned(),
    };
    Ed25519Verifier.verify(&request.member_key, &signed_bytes(&body), &request.proof)
}

/// The trimmed display name, once the request's name and member key are checked.
fn checked_name(request: &JoinRequest) -> Result<&str, ApiError> {
    check_label("name", &request.name)?;
    let name = request.name.trim();
    if !well_formed_member_key(&request.member_key) {
        return Err(ApiError::bad_request(
            "member_key: expected `age1…:…` as `envsync whoami` prints it",
        ));
    }
    Ok(name)
}

/// Who is joining: the account the member key already has, or the one to create.
struct Joiner<'a> {
    existing: Option<Account>,
    id: String,
    name: &'a str,
    member_key: &'a str,
}

/// The joiner's account: the one its member key has, else a new one. The setup code needs
/// a new one, so the server's owner never takes over an existing member's account.
async fn account_for(
    transaction: &mut Transaction<'_>,
    joiner: Joiner<'_>,
    admin: bool,
    at: i64,
) -> Result<Account, ApiError> {
    match joiner.existing {
        Some(_) if admin => Err(ApiError::bad_request(
            "this member key already has an account; use a new identity for the owner",
        )),
        Some(account) => Ok(account),
        None => {
            transaction
                .create_account(&joiner.id, joiner.name, joiner.member_key, admin, at)
                .await?;
            Ok(Account {
                id: joiner.id,
                name: joiner.name.to_owned(),
                member_key: Some(joiner.member_key.to_owned()),
                admin,
            })
        }
    }
}

/// What a code turned out to be.
enum Redeemed {
    Owner,
    Invite(Grant),
}

async fn redeem(
    transaction: &mut Transaction<'_>,
    code_hash: &str,
    account_id: &str,
    at: i64,
) -> Result<Option<Redeemed>, ApiError> {
    if transaction.take_setup_code(code_hash).await? {
        return Ok(Some(Redeemed::Owner));
    }
    Ok(transaction
        .redeem_invite(code_hash, account_id, at)
        .await?
        .map(Redeemed::Invite))
}

/// The joiner's first personal access token, `(token, id)`.
async fn issue_join_token(
    transaction: &mut Transaction<'_>,
    account: &str,
    at: i64,
) -> Result<(String, String), ApiError> {
    let (token, token_id) = new_token();
    transaction
        .create_token(&NewToken {
            token_hash: &sha256_hex(token.as_bytes()),
            id: &token_id,
            label: "join",
            kind: TokenKind::Personal,
            account,
            project: None,
            environment: None,
            created_at: at,
            expires_at: None,
        })
        .await?;
    Ok((token, token_id))
}

/// Records the join: as the server's owner (the setup code), or with an invite's role.
async fn audit_join(
    transaction: &mut Transaction<'_>,
    account: &str,
    grant: Option<&Grant>,
    source: Source,
    at: i64,
) -> Result<(), ApiError> {
    let source_text = source.text();
    transaction
        .append_audit(&NewAuditEntry {
            actor: account,
            action: if grant.is_none() {
                "join.owner"
            } else {
                "join"
            },
            project: grant.map(|grant| grant.project.as_str()),
            target: &grant.map_or_else(
                || "server owner".to_owned(),
                |grant| format!("role {}", grant.role),
            ),
            source_address: source_text.as_deref(),
            at,
        })
        .await?;
    Ok(())
}

/// A readable, unique account id: the name as a slug, and four random hex digits.
pub fn new_account_id(name: &str) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug = slug
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.truncate(24);
    if slug.is_empty() {
        slug.push_str("member");
    }
    let mut suffix = [0u8; 2];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    format!(
        "{}-{:02x}{:02x}",
        slug.trim_end_matches('-'),
        suffix[0],
        suffix[1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_slugs() {
        let id = new_account_id("Ada Lovelace!");
        assert!(id.starts_with("ada-lovelace-"), "{id}");
        assert_eq!(id.len(), "ada-lovelace-".len() + 4);
        assert!(new_account_id("✓✓").starts_with("member-"));
    }
}
