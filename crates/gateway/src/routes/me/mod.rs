//! `/v1/me`: the caller's account, its profile fields (display name,
//! avatar) and privacy settings (profile, messages, read receipts,
//! presence, device names in the directory).

mod confirm;
pub mod delete;
pub mod password;
pub mod show;
pub mod update;

use passerelle_api_types::{Me, MessagePolicy, PresenceVisibility, ProfileVisibility};
use passerelle_domain as domain;
use passerelle_store::users::UserRow;

pub(crate) fn to_api(row: UserRow) -> Me {
    Me {
        user_id: row.id.0,
        has_password: row.password_hash.is_some(),
        username: row.username,
        display_name: row.display_name,
        created_at: row.created_at,
        avatar_blob_id: row.avatar_blob_id,
        message_policy: match row.message_policy {
            domain::MessagePolicy::Everyone => MessagePolicy::Everyone,
            domain::MessagePolicy::Contacts => MessagePolicy::Contacts,
        },
        profile_visibility: match row.profile_visibility {
            domain::ProfileVisibility::Everyone => ProfileVisibility::Everyone,
            domain::ProfileVisibility::Contacts => ProfileVisibility::Contacts,
            domain::ProfileVisibility::Nobody => ProfileVisibility::Nobody,
        },
        read_receipts: row.read_receipts,
        presence_visibility: visibility_to_api(row.presence.visibility),
        last_seen_visibility: visibility_to_api(row.presence.last_seen),
        invisible: row.presence.invisible,
        share_device_names: row.share_device_names,
    }
}

fn visibility_to_api(v: domain::PresenceVisibility) -> PresenceVisibility {
    match v {
        domain::PresenceVisibility::Everyone => PresenceVisibility::Everyone,
        domain::PresenceVisibility::Contacts => PresenceVisibility::Contacts,
        domain::PresenceVisibility::Nobody => PresenceVisibility::Nobody,
    }
}

pub(crate) fn visibility_from_api(v: PresenceVisibility) -> domain::PresenceVisibility {
    match v {
        PresenceVisibility::Everyone => domain::PresenceVisibility::Everyone,
        PresenceVisibility::Contacts => domain::PresenceVisibility::Contacts,
        PresenceVisibility::Nobody => domain::PresenceVisibility::Nobody,
    }
}
