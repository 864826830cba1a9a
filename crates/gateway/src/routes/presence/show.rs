//! `GET /v1/users/{username}/presence`: one user's presence as the caller
//! may see it.

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::{ErrorBody, UserPresence};
use passerelle_domain::{Username, Viewer, profile_visible};
use passerelle_store::{presence, social};

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A user's presence, looked up by exact username like their profile (and
/// counted against the same lookup throttle). A user whose profile the
/// caller may not see (their setting, or they blocked the caller) and an
/// unknown username answer the same 404; a visible profile whose presence
/// the caller may not see answers `hidden`.
#[utoipa::path(
    get, path = "/v1/users/{username}/presence", operation_id = "show_presence", tag = "presence",
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Exact username, any case")),
    responses(
        (status = 200, description = "The user's presence as the caller may see it", body = UserPresence),
        (status = 404, description = "No such user visible to the caller (`not_found`)", body = ErrorBody),
        (status = 422, description = "Not a valid username (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many lookups (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    crate::routes::users::throttle_lookup(&state, &req, Some(&caller)).await?;
    let username = Username::parse(&path.into_inner())?;
    let me = caller.user_id;
    let now = passerelle_store::now();
    let seen = state
        .store
        .run(move |conn| {
            let Some(found) = social::lookup(conn, username.as_str(), Some(me))? else {
                return Ok(None);
            };
            let viewer = found.relation.map_or(Viewer::Owner, Viewer::User);
            if !profile_visible(found.profile.profile_visibility, viewer) {
                return Ok(None);
            }
            Ok(presence::seen_by(conn, me, &[found.profile.user_id], now)?.pop())
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(super::view_of(me, &seen)))
}
