//! Bodies of the device endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One active device (one login) of the caller's account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: Uuid,
    pub name: Option<String>,
    pub platform: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Last login or token refresh of this device.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// True for the device the request was made with.
    pub current: bool,
    /// The device's registration number; changes when it re-registers.
    pub registration_id: u32,
}

/// The caller's active devices, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceList {
    pub devices: Vec<Device>,
}

/// Rename a device.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenameDeviceRequest {
    /// 1 to 64 characters, trimmed.
    pub name: String,
}

/// Re-register the calling device: its encryption state was reset, so
/// sessions made for the old one must not be used. Without
/// `registrationId` the server picks a new number in 1..16380.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReregisterRequest {
    /// The new number, 1 to 2147483647 (e.g. the new Signal-protocol
    /// registration id). The current number changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1, maximum = 2147483647)]
    pub registration_id: Option<u32>,
}

/// One active device of another user, as the directory shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryEntry {
    pub id: Uuid,
    /// Encrypt for this number; a `stale` refusal means it changed.
    pub registration_id: u32,
    pub created_at: DateTime<Utc>,
    /// Only when the owner shares device names (`shareDeviceNames`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
}

/// A user's active devices, oldest first: every device a per-device
/// message to them must address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDevices {
    pub user_id: Uuid,
    pub devices: Vec<DirectoryEntry>,
}
