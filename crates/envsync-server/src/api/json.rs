//! Extractors whose rejections are API errors (`{"error": {"code", "message"}}` with a
//! documented status) instead of axum's plain-text ones: JSON bodies (400 with the parser's
//! message, 413, 415), paths and query strings (400).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(rejection_error(rejection)),
        }
    }
}

/// A raw body (a signed record, stored as sent), with the size limit's rejection as an API
/// error.
pub fn raw_body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => ApiError::bad_request(format!("request body: {}", rejection.body_text())),
    })
}

fn too_large() -> ApiError {
    ApiError::too_large(format!(
        "request body is larger than {} bytes",
        envsync_api::MAX_BODY_BYTES
    ))
}

pub fn rejection_error(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("send the body as `Content-Type: application/json`")
        }
        _ => ApiError::bad_request(format!("request body: {}", rejection.body_text())),
    }
}

/// A path extractor whose rejection (say, `/versions/abc` where a number belongs) is the
/// API's JSON error, 400, instead of axum's plain text.
pub struct ApiPath<T>(pub T);

impl<T> FromRequestParts<AppState> for ApiPath<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// A query-string extractor whose rejection (an unknown parameter, `?after=x`) is the
/// API's JSON error, 400.
pub struct ApiQuery<T>(pub T);

impl<T> FromRequestParts<AppState> for ApiQuery<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "query: {}",
                rejection.body_text()
            ))),
        }
    }
}
