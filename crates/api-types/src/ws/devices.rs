//! Per-device addressing: the entries of a per-device `message`, the
//! `device_mismatch` details of its refusal, and the `devices` event that
//! tells a user's peers their device list changed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One device's entry in a per-device `message`: the blob holding the
/// ciphertext encrypted for that device, in the state its registration
/// number names. A device receives only its own entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceEntry {
    pub device_id: Uuid,
    /// The registration number the sender encrypted for (from the
    /// directory, `GET /v1/users/{userId}/devices`).
    pub registration_id: u32,
    /// The blob holding this device's ciphertext (one of the sender's own
    /// message or attachment blobs).
    pub blob_id: String,
}

/// A device of the directory, as a refusal names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryDevice {
    pub user_id: Uuid,
    pub device_id: Uuid,
    /// The device's current registration number.
    pub registration_id: u32,
}

/// Why a per-device `message` was refused (`device_mismatch`): nothing was
/// stored. Fix the sessions and resend with the same `messageId`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceMismatch {
    /// Active devices (of a recipient, or the sender's other devices) that
    /// have no entry: add one for each.
    pub missing: Vec<DirectoryDevice>,
    /// Entries for devices that are not addressed (revoked, unknown, not a
    /// recipient's, or the sending device): drop them.
    pub extra: Vec<Uuid>,
    /// Entries made for an old registration number (the device
    /// re-registered): the current one; start a new session with it.
    pub stale: Vec<DirectoryDevice>,
}

/// How a device list changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChange {
    /// A new device (a login, a registration, an identity provider's).
    Added,
    /// The device reset its encryption state: new registration number.
    Reregistered,
    /// The device was revoked (logged out, revoked by its owner, a
    /// replayed refresh token, a password change).
    Revoked,
}

/// `devices` event: `userId`'s device list changed. Sent to the user's
/// other devices, to everyone who shares a conversation with them and to
/// everyone who has them as a contact (not to users they block).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceListEvent {
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub change: DeviceChange,
    /// The device's registration number now (`added`, `reregistered`);
    /// absent for `revoked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub registration_id: Option<u32>,
    pub at: DateTime<Utc>,
}
