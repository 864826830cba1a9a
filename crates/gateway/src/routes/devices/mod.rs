//! `/v1/devices`: the caller's own devices (another account's device id is
//! answered exactly like a non-existent one, 404, so ids reveal nothing),
//! re-registering the calling device, and the directory of other users'
//! devices (`/v1/users/{userId}/devices`).

pub mod directory;
pub mod list;
pub mod rename;
pub mod reregister;
pub mod revoke;

use passerelle_api_types::Device;
use passerelle_domain::DeviceId;
use passerelle_store::devices::DeviceRow;

pub(crate) fn to_api(row: DeviceRow, current: DeviceId) -> Device {
    Device {
        id: row.id.0,
        current: row.id == current,
        name: row.name,
        platform: row.platform,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        registration_id: row.registration_id.get(),
    }
}
