//! The caller of a read route (`head`, every head, a version's record, a ciphertext),
//! authenticated together with its grant on the project and, for `head`, the environment's
//! head: one database round trip where [`Caller`] and the access check would take three.
//! These are the requests clients make most (every `status`, `pull`, `run --remote` and
//! watcher refresh), and PostgreSQL, shared by replicas, can cache none of the answers.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use envsync_api::Grant;

use super::auth::{Caller, bearer, matches, presented, refuse_token};
use super::{ApiError, AppState, now, token_id};

/// An authenticated caller of a route under `/projects/{project}/environments/
/// {environment}/`, with what the database said of its access at the same moment. With
/// `HEAD`, the environment's head too; the access check decides whether it may be shown.
pub struct Reader<const HEAD: bool> {
    pub caller: Caller,
    /// The account's stored grant on the project (a CI token's reach is its token's).
    pub stored_grant: Option<Grant>,
    pub head: Option<u64>,
}

/// The reader of `GET …/head`.
pub type HeadReader = Reader<true>;

impl<const HEAD: bool> FromRequestParts<AppState> for Reader<HEAD> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let names = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Path(names)| names)
            .unwrap_or_default();
        let Some(project) = names.get("project") else {
            // A path that does not decode: authenticate as any route does, and leave the
            // handler's path extractor to answer 400. Without a grant nothing is shown.
            return Ok(Reader {
                caller: Caller::from_request_parts(parts, state).await?,
                stored_grant: None,
                head: None,
            });
        };
        let head_of = names.get("environment").filter(|_| HEAD);
        if bearer(&parts.headers).is_none() {
            return session_reader(parts, state, project, head_of).await;
        }
        let (source, presented) = presented(parts, state).await?;
        let Some(id) = token_id(presented) else {
            return Err(refuse_token(state, source).await);
        };
        let access = state
            .store()
            .authenticate_read(id, now(), project, head_of.map(String::as_str))
            .await?;
        match access {
            Some(access) if matches(presented, &access.token_hash) => Ok(Reader {
                caller: Caller::new(access.account, access.token, source),
                stored_grant: access.grant,
                head: access.head,
            }),
            _ => Err(refuse_token(state, source).await),
        }
    }
}

/// A dashboard session reading: the session is checked as on every route (cookie, expiry,
/// its token still valid), then the grant and head are read for the token it acts as.
async fn session_reader<const HEAD: bool>(
    parts: &mut Parts,
    state: &AppState,
    project: &str,
    head_of: Option<&String>,
) -> Result<Reader<HEAD>, ApiError> {
    let caller = Caller::from_request_parts(parts, state).await?;
    let access = state
        .store()
        .authenticate_read(
            &caller.token.id,
            now(),
            project,
            head_of.map(String::as_str),
        )
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized("the dashboard session's token is no longer valid")
        })?;
    Ok(Reader {
        caller,
        stored_grant: access.grant,
        head: access.head,
    })
}
