//! Reading versions: the head (of one environment, or of every one at once), records,
//! ciphertexts and the environments that have any.
//! Writing one is `push`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envsync_api::paths::route;
use envsync_api::{Environments, Head, HeadRecord, HeadWith, Heads, Records};
use envsync_core::role::Role;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::access::{
    Access, covers, require, require_member_reader, require_project_reader, require_reader,
};
use super::auth::Caller;
use super::json::{ApiPath, ApiQuery};
use super::reader::{HeadReader, Reader};
use super::{ApiError, AppState};

/// Query parameters of `GET …/head` (see [`super::audit::AuditQuery`] on why they say where
/// they live).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeadQuery {
    /// `record`: the head's record too; `version`: its record and ciphertext. Each is what
    /// the client would ask for next, and may be shown to exactly the callers who may read
    /// the head (the routes `GET …/versions/{number}` and `…/objects/{sha256}` ask the same).
    #[param(inline, nullable = false)]
    with: Option<HeadWith>,
}

#[utoipa::path(get, path = route::HEAD,
    params(("project" = String, Path), ("environment" = String, Path), HeadQuery),
    responses((status = 200, body = Head), (status = 400, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn head(
    State(state): State<AppState>,
    reader: HeadReader,
    ApiPath((project, environment)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<HeadQuery>,
) -> Result<Json<Head>, ApiError> {
    let head = match require_reader(&state, &reader, &project, &environment).await? {
        Access::Creator | Access::Pending => None,
        Access::Member => reader.head,
    };
    let mut answer = Head {
        head,
        record: None,
        ciphertext: None,
    };
    let (Some(number), Some(with)) = (head, query.with) else {
        return Ok(Json(answer));
    };
    let store = state.store();
    let missing =
        || ApiError::not_found(format!("{project}/{environment} has no version {number}"));
    match with {
        HeadWith::Record => {
            let record = store.version_record(&project, &environment, number).await?;
            answer.record = Some(raw_record(record.ok_or_else(missing)?.to_vec())?);
        }
        HeadWith::Version => {
            let version = store
                .version_with_ciphertext(&project, &environment, number)
                .await?;
            let (record, ciphertext) = version.ok_or_else(missing)?;
            answer.record = Some(raw_record(record.to_vec())?);
            answer.ciphertext = Some(STANDARD.encode(ciphertext));
        }
    }
    Ok(Json(answer))
}

/// Every head the caller may read, with its record: `status` asks this once per project
/// instead of a head and a record per environment. A [`Reader`] authenticates and reads
/// the grant in one query, and the heads take one more, however many environments.
#[utoipa::path(get, path = route::HEADS,
    params(("project" = String, Path)),
    responses((status = 200, body = Heads), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn heads(
    State(state): State<AppState>,
    reader: Reader<false>,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<Heads>, ApiError> {
    let grant = match require_project_reader(&state, &reader, &project).await? {
        (Access::Member, Some(grant)) => grant,
        (Access::Member, None) | (Access::Creator | Access::Pending, _) => {
            return Ok(Json(Heads { heads: Vec::new() }));
        }
    };
    let rows = state.store().heads_with_records(&project).await?;
    let heads = rows
        .into_iter()
        .filter(|(environment, _, _)| covers(&grant, environment))
        .map(|(environment, number, record)| {
            Ok(HeadRecord {
                environment,
                number,
                record: raw_record(record)?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(Heads { heads }))
}

/// Query parameters (see [`super::audit::AuditQuery`] on why they say where they live).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only versions numbered above this. Version numbers are stored as SQL integers, so
    /// the document's range is theirs: a larger `after` is refused rather than wrapped.
    #[serde(default)]
    #[param(minimum = 0)]
    after: i64,
    /// At most this many: default 1000; outside 1..=1000 it is refused (400), not clamped.
    #[param(nullable = false, minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = route::VERSIONS,
    params(("project" = String, Path), ("environment" = String, Path), ListQuery),
    responses((status = 200, body = Records), (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((project, environment)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Records>, ApiError> {
    // The query is checked before anything is looked up: its answer depends on nothing else.
    let limit = super::contract::page_size(query.limit, 1000)?;
    let after = super::contract::position(query.after)?;
    let rows = match require(&state, &caller, &project, Some(&environment), Role::Reader).await? {
        Access::Creator | Access::Pending => Vec::new(),
        Access::Member => {
            state
                .store()
                .list_versions(&project, &environment, after, limit)
                .await?
        }
    };
    let records = rows
        .into_iter()
        .map(|(_, json)| raw_record(json))
        .collect::<Result<_, _>>()?;
    Ok(Json(Records { records }))
}

/// Stored record bytes as embeddable JSON. The server stored them only after parsing them,
/// so a failure here means the database was altered behind its back.
pub fn raw_record(bytes: Vec<u8>) -> Result<Box<RawValue>, ApiError> {
    String::from_utf8(bytes)
        .ok()
        .and_then(|text| RawValue::from_string(text).ok())
        .ok_or_else(|| {
            tracing::error!("a stored record is not JSON");
            ApiError::not_found("a stored record is corrupt")
        })
}

#[utoipa::path(get, path = route::VERSION,
    params(("project" = String, Path), ("environment" = String, Path), ("number" = u64, Path)),
    responses((status = 200, description = "the signed version record", content_type = "application/json"),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    reader: Reader<false>,
    ApiPath((project, environment, number)): ApiPath<(String, String, u64)>,
) -> Result<Response, ApiError> {
    require_member_reader(&state, &reader, &project, &environment).await?;
    let record = state
        .store()
        .version_record(&project, &environment, number)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("{project}/{environment} has no version {number}"))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], record).into_response())
}

#[utoipa::path(get, path = route::OBJECT,
    params(("project" = String, Path), ("environment" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "the age ciphertext", content_type = "application/octet-stream"),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn object(
    State(state): State<AppState>,
    reader: Reader<false>,
    ApiPath((project, environment, sha256)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    require_member_reader(&state, &reader, &project, &environment).await?;
    let ciphertext = state
        .store()
        .ciphertext(&project, &environment, &sha256)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("{project}/{environment} has no object {sha256}"))
        })?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        ciphertext,
    )
        .into_response())
}

#[utoipa::path(get, path = route::ENVIRONMENTS,
    params(("project" = String, Path)),
    responses((status = 200, body = Environments), (status = 403, body = envsync_api::ErrorBody),
        (status = 404, body = envsync_api::ErrorBody)),
    security(("token" = [])))]
pub async fn environments(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<Environments>, ApiError> {
    let environments = match require(&state, &caller, &project, None, Role::Reader).await? {
        Access::Member => state.store().environments(&project).await?,
        Access::Creator | Access::Pending => Vec::new(),
    };
    Ok(Json(Environments { environments }))
}
