//! The gateway's one error type, [`ApiError`], and the only place where errors
//! become HTTP responses.
//!
//! Handlers return `Result<T, ApiError>`. Each variant has a fixed status and
//! a stable code (`passerelle_api_types::ErrorCode`); the body is always
//! `{"error": {"code", "message"}}`. Causes of 500 and 503 are logged here,
//! never sent. Errors of the other crates convert with `From`, and actix's own
//! extractor errors (bad JSON, wrong content type, oversized body, bad path
//! parameter, bad query string) are routed here by [`json_config`],
//! [`path_config`] and [`query_config`].

use std::time::Duration;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use passerelle_api_types::{ErrorBody, ErrorCode, ErrorDetail};
use passerelle_auth::AuthError;
use passerelle_domain::DomainError;
use passerelle_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidJson(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    Validation(String),
    #[error("offer the subprotocol passerelle.v1 in Sec-WebSocket-Protocol")]
    SubprotocolRequired,
    #[error("{0}")]
    WebsocketRequired(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("the refresh token is invalid, expired, revoked or already used")]
    InvalidRefreshToken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the password is wrong")]
    WrongPassword,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("a group already has this name")]
    NameTaken,
    #[error("the group has as many members as its member cap allows")]
    MemberCapReached,
    #[error("the user is already a member")]
    AlreadyMember,
    #[error("hand ownership to another member before leaving")]
    OwnerMustTransfer,
    #[error("{0}")]
    DirectConversation(&'static str),
    #[error(
        "link rooms have no settings, invitations, roles or join links; enter and leave them over the WebSocket"
    )]
    LinkRoom,
    #[error("the message is older than the retraction window")]
    RetractWindowPassed,
    #[error("the invitation is no longer pending")]
    InviteNotPending,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; retry later")]
    RateLimited { retry_after: Duration },
    /// A dependency is down; the text is logged, not sent.
    #[error("a dependency is unavailable")]
    Unavailable(String),
    /// A bug; the text is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidJson(_) => ErrorCode::InvalidJson,
            Self::InvalidPath(_) => ErrorCode::InvalidPath,
            Self::InvalidQuery(_) => ErrorCode::InvalidQuery,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::SubprotocolRequired => ErrorCode::SubprotocolRequired,
            Self::WebsocketRequired(_) => ErrorCode::WebsocketRequired,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::WrongPassword => ErrorCode::WrongPassword,
            Self::NotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::UsernameTaken => ErrorCode::UsernameTaken,
            Self::NameTaken => ErrorCode::NameTaken,
            Self::MemberCapReached => ErrorCode::MemberCapReached,
            Self::AlreadyMember => ErrorCode::AlreadyMember,
            Self::OwnerMustTransfer => ErrorCode::OwnerMustTransfer,
            Self::DirectConversation(_) => ErrorCode::DirectConversation,
            Self::LinkRoom => ErrorCode::LinkRoom,
            Self::RetractWindowPassed => ErrorCode::RetractWindowPassed,
            Self::InviteNotPending => ErrorCode::InviteNotPending,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidJson(_)
            | Self::InvalidPath(_)
            | Self::InvalidQuery(_)
            | Self::SubprotocolRequired
            | Self::WebsocketRequired(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) | Self::InvalidCredentials | Self::InvalidRefreshToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) | Self::WrongPassword => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UsernameTaken
            | Self::NameTaken
            | Self::MemberCapReached
            | Self::AlreadyMember
            | Self::OwnerMustTransfer
            | Self::DirectConversation(_)
            | Self::LinkRoom
            | Self::RetractWindowPassed
            | Self::InviteNotPending => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            Self::Unavailable(cause) => tracing::warn!(cause = %cause, "dependency unavailable"),
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
            },
        };
        let mut resp = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after } = self {
            let secs = retry_after.as_secs_f64().ceil().max(1.0);
            if let Ok(v) = HeaderValue::from_str(&format!("{secs:.0}")) {
                resp.insert_header((RETRY_AFTER, v));
            }
        }
        if matches!(self, Self::Unauthorized(_)) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(body)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self::Validation(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict("username") => Self::UsernameTaken,
            StoreError::Conflict(what) => Self::Internal(format!("unexpected conflict on {what}")),
            StoreError::Unavailable(cause) => Self::Unavailable(format!("database: {cause}")),
            StoreError::Transient(cause) => Self::Unavailable(format!("database: {cause}")),
            StoreError::Internal(cause) => Self::Internal(format!("database: {cause}")),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidToken(reason) => Self::Unauthorized(reason),
            AuthError::Unavailable(cause) => {
                Self::Unavailable(format!("identity provider: {cause}"))
            }
            AuthError::Config(cause) | AuthError::Internal(cause) => Self::Internal(cause),
        }
    }
}

/// Turns actix's JSON extractor errors into [`ApiError`]s.
fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => {
            ApiError::PayloadTooLarge(format!("the body must be at most {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("the body must be application/json".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::InvalidJson(format!("the body does not match the expected shape: {e}"))
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::InvalidJson(format!("the body is not valid JSON: {e}"))
        }
        JsonPayloadError::Serialize(e) => ApiError::Internal(e.to_string()),
        other => ApiError::InvalidJson(format!("the body could not be read: {other}")),
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| json_error(err).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req: &HttpRequest| {
        let message = match err {
            PathError::Deserialize(e) => format!("invalid path parameter: {e}"),
            _ => "invalid path parameter".to_owned(),
        };
        ApiError::InvalidPath(message).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req: &HttpRequest| {
        let message = match err {
            QueryPayloadError::Deserialize(e) => format!("invalid query string: {e}"),
            _ => "invalid query string".to_owned(),
        };
        ApiError::InvalidQuery(message).into()
    })
}

/// Fallback for paths that exist with other methods.
pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// Fallback for paths that do not exist.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
