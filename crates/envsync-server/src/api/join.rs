//! Joining: trading a one-time code (an invite, or the owner setup code) for an account
//! bound to the joiner's member key, and a personal access token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use envsync_api::{JoinRequest, JoinResponse};
use envsync_core::hash::sha256_hex;
use rand::RngCore;

use super::access::to_grant;
use super::auth::Source;
use super::json::ApiJson;
use super::{ApiError, AppState, new_token, now};
use crate::store::{Account, AuditEntry, NewToken};

#[utoipa::path(post, path = "/api/v1/join",
    request_body = JoinRequest,
    responses((status = 201, body = JoinResponse),
        (status = 400, body = envsync_api::ErrorBody),
        (status = 401, description = "the code is invalid, used or expired", body = envsync_api::ErrorBody),
        (status = 429, body = envsync_api::ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<(StatusCode, Json<JoinResponse>), ApiError> {
    if state.limiter().is_blocked(source.0) {
        return Err(ApiError::rate_limited());
    }
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name: give 1 to 100 printable characters",
        ));
    }
    if !plausible_member_key(&request.member_key) {
        return Err(ApiError::bad_request(
            "member_key: expected `age1…:…` as `envsync whoami` prints it",
        ));
    }
    let store = state.store();
    let code_hash = sha256_hex(request.code.trim().as_bytes());
    let existing = store.account_by_member_key(&request.member_key).await?;
    let account_id = existing
        .as_ref()
        .map_or_else(|| new_account_id(name), |account| account.id.clone());
    let at = now();
    let source_text = source.text();

    let (admin, grant) = if store.take_setup_code(&code_hash).await? {
        if existing.is_some() {
            return Err(ApiError::bad_request(
                "this member key already has an account; use a new identity for the owner",
            ));
        }
        (true, None)
    } else if let Some(invite) = store.redeem_invite(&code_hash, &account_id, at).await? {
        (false, Some(invite))
    } else {
        state.limiter().record_failure(source.0);
        store
            .append_audit(&AuditEntry {
                actor: "anonymous",
                action: "join.failed",
                project: None,
                target: "code",
                source_address: source_text.as_deref(),
                at,
            })
            .await?;
        return Err(ApiError::unauthorized(
            "the code is not valid: it may be mistyped, used already or expired",
        ));
    };

    let account = match existing {
        Some(account) => account,
        None => {
            store
                .create_account(&account_id, name, &request.member_key, admin, at)
                .await?;
            Account {
                id: account_id,
                name: name.to_owned(),
                member_key: Some(request.member_key.clone()),
                admin,
            }
        }
    };
    if let Some(invite) = &grant {
        store
            .set_grant(
                &account.id,
                &invite.project,
                &invite.role,
                invite.environments.as_deref(),
            )
            .await?;
    }
    let (token, token_id) = new_token();
    store
        .create_token(&NewToken {
            token_hash: &sha256_hex(token.as_bytes()),
            id: &token_id,
            label: "join",
            kind: "personal",
            account: &account.id,
            project: None,
            environment: None,
            created_at: at,
            expires_at: None,
        })
        .await?;
    let actor = account.id.clone();
    store
        .append_audit(&AuditEntry {
            actor: &actor,
            action: if admin { "join.owner" } else { "join" },
            project: grant.as_ref().map(|invite| invite.project.as_str()),
            target: &grant.as_ref().map_or_else(
                || "server owner".to_owned(),
                |invite| format!("role {}", invite.role),
            ),
            source_address: source_text.as_deref(),
            at,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(JoinResponse {
            token,
            token_id,
            account: account.id,
            admin: account.admin,
            grant: grant.map(|invite| {
                to_grant(invite.project, &invite.role, invite.environments.as_deref())
            }),
        }),
    ))
}

/// The shape of a member key, `age1…:<base64url>`; the server cannot check more (it does
/// not link the crypto crate), and clients verify every key they use.
fn plausible_member_key(key: &str) -> bool {
    let Some((age, signing)) = key.split_once(':') else {
        return false;
    };
    age.starts_with("age1")
        && age.len() > 20
        && age.len() < 100
        && age.bytes().all(|byte| byte.is_ascii_alphanumeric())
        && signing.len() >= 40
        && signing.len() < 100
        && signing
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
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
