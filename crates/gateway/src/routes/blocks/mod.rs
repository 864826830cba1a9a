//! `/v1/blocks`: the users the caller blocks. A block is one-way and never
//! told to the blocked user. It keeps both users' contact entries (the
//! block wins wherever the two meet), and stops the blocked user from
//! seeing the blocker's profile or adding them as a contact. Messages,
//! presence, typing and groups are enforced by the send path and presence.

pub mod block;
pub mod list;
pub mod unblock;

use passerelle_api_types::BlockedUser;
use passerelle_store::social::Listed;

pub(crate) fn to_api(entry: Listed) -> BlockedUser {
    let (display_name, avatar_blob_id) = crate::routes::users::visible_fields(&entry);
    BlockedUser {
        user_id: entry.profile.user_id.0,
        username: entry.profile.username,
        display_name,
        avatar_blob_id,
        blocked_at: entry.since,
    }
}
