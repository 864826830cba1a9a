//! `/v1/presence` and `/v1/users/{username}/presence`: what the caller may
//! see of other users' presence right now (the live changes come as
//! `presence` frames). Both apply `passerelle_domain::presence_view`
//! through [`view_of`].

pub mod list;
pub mod show;

use passerelle_api_types::UserPresence;
use passerelle_domain::{PresenceView, UserId, presence_view};
use passerelle_store::presence::Seen;

use crate::presence::user_presence;

/// What `viewer` may see of `seen` (their own presence entirely).
pub(crate) fn view_of(viewer: UserId, seen: &Seen) -> UserPresence {
    let view = if seen.user == viewer {
        PresenceView {
            status: true,
            last_seen: true,
        }
    } else {
        presence_view(seen.settings, seen.relation)
    };
    user_presence(seen.user, &seen.presence, view)
}
