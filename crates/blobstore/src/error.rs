//! The blob store's one error type, [`BlobError`], and the only place where
//! errors become HTTP responses.
//!
//! Handlers and backends return `Result<T, BlobError>`. Each variant has a
//! fixed status and a stable snake_case code; the body has the gateway's
//! shape, `{"error": {"code", "message"}}`. Causes of 500 and 503 are logged
//! here, never sent; a refused capability's message is a short reason from
//! the verifier (never the token or which key was tried).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_RANGE, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use passerelle_auth::AuthError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// 400 `invalid_path`: the blob id breaks the id rule.
    #[error("{0}")]
    InvalidId(&'static str),
    /// 400 `invalid_header`: a header is malformed.
    #[error("{0}")]
    InvalidHeader(&'static str),
    /// 400 `digest_required`: a PUT with neither a capability digest nor
    /// `x-content-sha256`.
    #[error("send the body's SHA-256 (lowercase hex) in x-content-sha256")]
    DigestRequired,
    /// 401 `unauthorized`.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404 `not_found`.
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `blob_exists`: blobs are create-only.
    #[error("a blob with this id already exists")]
    Exists,
    /// 411 `length_required`.
    #[error("a PUT must send Content-Length")]
    LengthRequired,
    /// 413 `payload_too_large`.
    #[error("{0}")]
    TooLarge(String),
    /// 416 `range_not_satisfiable`; carries the blob's size.
    #[error("the range is outside the blob")]
    RangeNotSatisfiable(u64),
    /// 422 `digest_mismatch`: the bytes received are not the bytes
    /// announced (digest or length); nothing was kept.
    #[error("{0}")]
    DigestMismatch(&'static str),
    /// 503 `unavailable`: the storage backend failed; logged, not sent.
    #[error("the storage backend is unavailable")]
    Unavailable(String),
    /// 500 `internal`: a bug; logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl BlobError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidId(_) => "invalid_path",
            Self::InvalidHeader(_) => "invalid_header",
            Self::DigestRequired => "digest_required",
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Exists => "blob_exists",
            Self::LengthRequired => "length_required",
            Self::TooLarge(_) => "payload_too_large",
            Self::RangeNotSatisfiable(_) => "range_not_satisfiable",
            Self::DigestMismatch(_) => "digest_mismatch",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl ResponseError for BlobError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidId(_) | Self::InvalidHeader(_) | Self::DigestRequired => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Exists => StatusCode::CONFLICT,
            Self::LengthRequired => StatusCode::LENGTH_REQUIRED,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::DigestMismatch(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            Self::Unavailable(cause) => tracing::warn!(cause = %cause, "storage unavailable"),
            _ => {}
        }
        let mut resp = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized(_) => {
                resp.insert_header((WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::RangeNotSatisfiable(size) => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    resp.insert_header((CONTENT_RANGE, v));
                }
            }
            _ => {}
        }
        resp.json(json!({"error": {"code": self.code(), "message": self.to_string()}}))
    }
}

impl From<AuthError> for BlobError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidToken(reason) => Self::Unauthorized(reason),
            AuthError::Unavailable(cause) => Self::Unavailable(cause),
            AuthError::Config(cause) | AuthError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<std::io::Error> for BlobError {
    fn from(e: std::io::Error) -> Self {
        Self::Unavailable(format!("filesystem: {e}"))
    }
}

/// Path parameters that do not parse become [`BlobError`]s too.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err, _req: &HttpRequest| BlobError::InvalidId("invalid path").into())
}

/// Fallback for paths that do not exist.
pub async fn not_found() -> Result<HttpResponse, BlobError> {
    Err(BlobError::NotFound)
}

/// Fallback for known paths with another method.
pub async fn method_not_allowed() -> Result<HttpResponse, BlobError> {
    Err(BlobError::MethodNotAllowed)
}
