//! API errors: a status and a JSON body with a stable code and a one-line message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use envsync_api::{ErrorBody, ErrorDetail, code};

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    head: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            head: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code::FORBIDDEN, message)
    }

    pub fn is_forbidden(&self) -> bool {
        self.status == StatusCode::FORBIDDEN
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, message)
    }

    /// The same answer whether the project does not exist or the caller has no role on it.
    pub fn no_project(project: &str) -> Self {
        Self::not_found(format!(
            "project {project} not found (or you have no role on it)"
        ))
    }

    pub fn conflict(message: impl Into<String>, head: Option<u64>) -> Self {
        Self {
            head,
            ..Self::new(StatusCode::CONFLICT, code::CONFLICT, message)
        }
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            message,
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            message,
        )
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, code::TIMEOUT, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code::UNAVAILABLE, message)
    }

    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::RATE_LIMITED,
            "too many failed sign-ins from this address; wait a minute",
        )
    }
}

/// A database failure is logged with its detail and answered without it, so the client
/// learns nothing about the server's internals: 503 when the database is unreachable (a
/// retry may work), 500 when it holds a row no query of ours writes (a retry will not; the
/// request is refused rather than served from a guess).
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!("{error}");
        if error.is_out_of_space() {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::UNAVAILABLE,
                "the server's database cannot store more (its disk is full or a size limit \
                 was reached); reads still work; its operator must make room, then try again",
            );
        }
        if error.is_corrupt() {
            return Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "the server's database holds a corrupt record; its operator can see which in \
                 the server's log",
            );
        }
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "the server's database is unavailable; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                head: self.head,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API path")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        code::BAD_REQUEST,
        "method not allowed on this path",
    )
}
