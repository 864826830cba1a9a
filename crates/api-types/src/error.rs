//! The one error body every endpoint uses, and its stable codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": {"code": "...", "message": "..."}}`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "username: must be 3 to 32 characters long"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// Human-readable; says what was wrong with the request. Never holds
    /// internal details.
    pub message: String,
}

/// Stable, machine-readable error codes. Clients branch on these, never on
/// the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not valid JSON for this endpoint (syntax, type,
    /// missing or unknown field).
    InvalidJson,
    /// 400: a path parameter is malformed (e.g. not a UUID).
    InvalidPath,
    /// 400: the query string is malformed (unknown parameter, wrong type, a
    /// cursor this API did not issue).
    InvalidQuery,
    /// 422: the JSON is well-formed but a value breaks a rule.
    ValidationFailed,
    /// 400: `GET /v1/ws` without `passerelle.v1` among the offered
    /// subprotocols.
    SubprotocolRequired,
    /// 400: `GET /v1/ws` that is not a valid WebSocket handshake.
    WebsocketRequired,
    /// 401: no usable access token (missing, malformed, expired, revoked, or
    /// not signed by a trusted key).
    Unauthorized,
    /// 401: wrong username or password (never says which).
    InvalidCredentials,
    /// 401: the refresh token is unknown, expired, already used or revoked.
    InvalidRefreshToken,
    /// 403: authenticated, but not allowed to do this.
    Forbidden,
    /// 403: the password given to confirm a sensitive change is wrong.
    WrongPassword,
    /// 404: no such resource visible to the caller.
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed,
    /// 409: the username is taken.
    UsernameTaken,
    /// 409: a group already has this name.
    NameTaken,
    /// 409: the group has as many members as its `memberCap` allows.
    MemberCapReached,
    /// 409: the user is already a member of the group.
    AlreadyMember,
    /// 409: the owner must hand ownership to another member before leaving.
    OwnerMustTransfer,
    /// 409: direct conversations have no settings and no membership changes.
    DirectConversation,
    /// 409: link rooms have no settings, invitations, roles or join links;
    /// their members are whoever is in them (`enter_room`, `leave_room`).
    LinkRoom,
    /// 409: the message is older than the retraction window.
    RetractWindowPassed,
    /// 409: the game invitation is no longer pending (answered, cancelled
    /// or expired).
    InviteNotPending,
    /// 413: the body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 429: too many attempts; see `Retry-After`.
    RateLimited,
    /// 503: a dependency (database, Redis, an identity provider) is
    /// unavailable; retry later.
    Unavailable,
    /// 500: a bug on our side; the request id in the logs has the cause.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidPath => "invalid_path",
            Self::InvalidQuery => "invalid_query",
            Self::ValidationFailed => "validation_failed",
            Self::SubprotocolRequired => "subprotocol_required",
            Self::WebsocketRequired => "websocket_required",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::Forbidden => "forbidden",
            Self::WrongPassword => "wrong_password",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UsernameTaken => "username_taken",
            Self::NameTaken => "name_taken",
            Self::MemberCapReached => "member_cap_reached",
            Self::AlreadyMember => "already_member",
            Self::OwnerMustTransfer => "owner_must_transfer",
            Self::DirectConversation => "direct_conversation",
            Self::LinkRoom => "link_room",
            Self::RetractWindowPassed => "retract_window_passed",
            Self::InviteNotPending => "invite_not_pending",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}
