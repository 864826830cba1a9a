//! `/v1/users/{username}`: public profiles (the "profile link"), and the
//! pieces every social route shares: the lookup throttle and the visibility
//! of a listed user's profile.
//!
//! Lookup is by exact username only (no prefix search, no listing), open to
//! anonymous callers, and throttled per caller, so that it cannot be used to
//! enumerate accounts. Whatever the caller may not see answers exactly like
//! a username that does not exist.

pub mod show;

use actix_web::HttpRequest;
use passerelle_domain::{Viewer, profile_visible};
use passerelle_store::social::{Listed, Profile};

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::auth::throttle;
use crate::state::AppState;

/// Counts one profile lookup (a username lookup, or adding a contact)
/// against `limits.lookup_per_minute`: per account when signed in, else per
/// client address. `429 rate_limited` over the limit.
pub(crate) async fn throttle_lookup(
    state: &AppState,
    req: &HttpRequest,
    caller: Option<&Caller>,
) -> Result<(), ApiError> {
    let key = match caller {
        Some(c) => format!("lookup:user:{}", c.user_id),
        None => format!("lookup:addr:{}", throttle::client_address(state, req)),
    };
    throttle::check(state, &key, state.settings.limits.lookup_per_minute, 60).await
}

/// Display name and avatar of a listed user, or `None`s when the list's
/// owner may not see that user's profile (same rule as a lookup).
pub(crate) fn visible_fields(entry: &Listed) -> (Option<String>, Option<String>) {
    if profile_visible(
        entry.profile.profile_visibility,
        Viewer::User(entry.relation),
    ) {
        (
            entry.profile.display_name.clone(),
            entry.profile.avatar_blob_id.clone(),
        )
    } else {
        (None, None)
    }
}

pub(crate) fn to_public(p: Profile) -> passerelle_api_types::PublicProfile {
    passerelle_api_types::PublicProfile {
        user_id: p.user_id.0,
        username: p.username,
        display_name: p.display_name,
        avatar_blob_id: p.avatar_blob_id,
    }
}
