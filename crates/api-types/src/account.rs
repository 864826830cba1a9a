//! Bodies of the `/v1/me` endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::presence::PresenceVisibility;
use crate::social::{MessagePolicy, ProfileVisibility};

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
    /// Blob-store reference of the avatar image.
    pub avatar_blob_id: Option<String>,
    pub message_policy: MessagePolicy,
    pub profile_visibility: ProfileVisibility,
    /// Whether the other member of a direct conversation is told when this
    /// user reads it (their own devices always are).
    pub read_receipts: bool,
    /// Who sees whether the user is online, away or offline.
    pub presence_visibility: PresenceVisibility,
    /// Who, among those, also sees when the user was last online.
    pub last_seen_visibility: PresenceVisibility,
    /// Shown as offline to everyone while connected.
    pub invisible: bool,
    /// Whether the device directory shows the user's device names to
    /// others (default: no).
    pub share_device_names: bool,
}

/// Change profile fields and privacy settings. A field left out stays as it
/// is; `null` clears `displayName` or `avatarBlobId` (the two settings
/// cannot be `null`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// 1 to 64 characters, trimmed; `null` removes the display name.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// A blob-store reference: 1 to 128 of `A-Z a-z 0-9 _ -`; `null` removes
    /// the avatar.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub avatar_blob_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub message_policy: Option<MessagePolicy>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub profile_visibility: Option<ProfileVisibility>,
    /// Tell the peer of a direct conversation when the caller reads it.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub read_receipts: Option<bool>,
    /// Who sees whether the caller is online, away or offline.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub presence_visibility: Option<PresenceVisibility>,
    /// Who, among those, also sees when the caller was last online.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub last_seen_visibility: Option<PresenceVisibility>,
    /// Appear offline to everyone while connected.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub invisible: Option<bool>,
    /// Show device names in the caller's device directory.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub share_device_names: Option<bool>,
}

/// A field that is present: `Some(None)` for `null`, `Some(Some(v))` for a
/// value (an absent field is `None` through `#[serde(default)]`).
pub(crate) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A field that may be absent but, when present, is not `null`.
pub(crate) fn not_null<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
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
