//! Bodies of the `/v1/me` endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The caller's account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// False for accounts created from an external identity provider's token.
    pub has_password: bool,
}

/// Change the display name; `null` clears it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// 1 to 64 characters, trimmed; `null` removes the display name.
    pub display_name: Option<String>,
}

/// Change the password. Other devices are revoked unless
/// `keepOtherDevices` is true; the calling device stays signed in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(format = Password)]
    pub current_password: String,
    /// 8 to 256 characters.
    #[schema(format = Password)]
    pub new_password: String,
    #[serde(default)]
    pub keep_other_devices: bool,
}

/// Delete the account and every row about it. Accounts with a password must
/// confirm it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteAccountRequest {
    #[serde(default)]
    #[schema(format = Password)]
    pub password: Option<String>,
}
