//! Bodies of the auth API: register, login, refresh.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Register or log in. Every successful call creates a new device.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery", "deviceName": "Pixel 9", "platform": "android"}))]
pub struct CredentialsRequest {
    /// 3 to 32 characters of `[a-z0-9_.]`; upper-case input is lower-cased.
    pub username: String,
    /// 8 to 256 characters.
    #[schema(format = Password)]
    pub password: String,
    /// A label for the new device, up to 64 characters.
    #[serde(default)]
    pub device_name: Option<String>,
    /// The client platform, up to 32 characters ("android", "ios", "web", ...).
    #[serde(default)]
    pub platform: Option<String>,
    /// The new device's registration number (1 to 2147483647), e.g. the
    /// Signal-protocol registration id of its fresh encryption state.
    /// Without it the server picks one in 1..16380.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1, maximum = 2147483647)]
    pub registration_id: Option<u32>,
}

/// Exchange a refresh token for a new token pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    /// The opaque refresh token from the last register, login or refresh. It
    /// is single-use: replaying a used one revokes the device.
    pub refresh_token: String,
}

/// A token pair for one device.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub user_id: Uuid,
    pub device_id: Uuid,
    /// A JWT for `Authorization: Bearer` and the WebSocket subprotocol entry.
    pub access_token: String,
    /// Opaque, single-use; rotate it with `POST /v1/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The new device's registration number (register and login only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub registration_id: Option<u32>,
}
