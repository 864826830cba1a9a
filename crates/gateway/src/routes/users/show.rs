//! `GET /v1/users/{username}`: a public profile, for anyone allowed to see
//! it.

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::{ErrorBody, PublicProfile};
use passerelle_domain::{Username, Viewer, profile_visible};
use passerelle_store::social;

use crate::authn::MaybeCaller;
use crate::error::ApiError;
use crate::state::AppState;

/// Look a user up by exact username (case-insensitive). The token is
/// optional: anonymous callers see profiles whose visibility is `everyone`;
/// signed-in callers also see those of users who have them as a contact
/// (`contacts`), and their own. A user who blocked the caller, a profile the
/// caller may not see, and an unknown username all answer the same 404.
#[utoipa::path(
    get, path = "/v1/users/{username}", operation_id = "show_user", tag = "social",
    security((), ("bearer" = [])),
    params(("username" = String, Path, description = "Exact username, any case")),
    responses(
        (status = 200, description = "The profile", body = PublicProfile),
        (status = 401, description = "An `Authorization` header with an unusable token (`unauthorized`)", body = ErrorBody),
        (status = 404, description = "No such user visible to the caller (`not_found`)", body = ErrorBody),
        (status = 422, description = "Not a valid username (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many lookups (`rate_limited`)", body = ErrorBody),
    )
)]
pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: MaybeCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    super::throttle_lookup(&state, &req, caller.as_ref()).await?;
    let username = Username::parse(&path.into_inner())?;
    let viewer_id = caller.map(|c| c.user_id);
    let found = state
        .store
        .run(move |conn| social::lookup(conn, username.as_str(), viewer_id))
        .await?
        .ok_or(ApiError::NotFound)?;
    let viewer = match (viewer_id, found.relation) {
        (None, _) => Viewer::Anonymous,
        (Some(_), Some(relation)) => Viewer::User(relation),
        // The store gives no relation only when the viewer is the owner.
        (Some(_), None) => Viewer::Owner,
    };
    if !profile_visible(found.profile.profile_visibility, viewer) {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(super::to_public(found.profile)))
}
