//! `/v1/contacts`: the caller's contact list. One-way: adding someone tells
//! them nothing and needs no consent; it lets them see the caller's profile
//! when the caller's visibility is `contacts`, and (with the send path) lets
//! them message a caller whose message policy is `contacts`.
//!
//! Existence never leaks: an unknown user, a user who blocked the caller and
//! (by username) a user whose profile the caller may not see all answer the
//! same 404.

pub mod add;
pub mod list;
pub mod remove;

use passerelle_api_types::Contact;
use passerelle_store::social::Listed;

pub(crate) fn to_api(entry: Listed) -> Contact {
    let (display_name, avatar_blob_id) = crate::routes::users::visible_fields(&entry);
    Contact {
        user_id: entry.profile.user_id.0,
        username: entry.profile.username,
        display_name,
        avatar_blob_id,
        added_at: entry.since,
    }
}
