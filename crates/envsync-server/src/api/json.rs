//! A JSON body extractor whose rejections are API errors (400 with the parser's message,
//! 413, 415) instead of axum's plain-text ones.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
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

pub fn rejection_error(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(format!(
            "request body is larger than {} bytes",
            envsync_api::MAX_BODY_BYTES
        )),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type("send the body as `Content-Type: application/json`")
        }
        _ => ApiError::bad_request(format!("request body: {}", rejection.body_text())),
    }
}

/// Parses bytes already read (e.g. a signed record) as `T`, naming `what` in the error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| ApiError::bad_request(format!("{what}: {error}")))
}
