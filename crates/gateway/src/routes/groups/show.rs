//! `GET /v1/groups/{name}`: a public group by its name.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Conversation, ErrorBody};
use passerelle_domain::GroupName;
use passerelle_store::conversations;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{is_public_group, reading, view};
use crate::state::AppState;

/// The public group named exactly `name` (any case), to see before joining
/// it. A private group answers like a name nobody has (404); no prefix
/// search, no listing.
#[utoipa::path(
    get, path = "/v1/groups/{name}", operation_id = "show_group", tag = "conversations",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The group's name")),
    responses(
        (status = 200, description = "The group as the caller sees it", body = Conversation),
        (status = 404, description = "No public group has this name (`not_found`)", body = ErrorBody),
        (status = 422, description = "Not a valid group name (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = GroupName::parse(&path.into_inner())?;
    let me = caller.user_id;
    let conversation = reading(&state, move |conn| {
        let c = conversations::find_by_name(conn, name.as_str())?
            .filter(is_public_group)
            .ok_or(ApiError::NotFound)?;
        let membership = conversations::membership(conn, c.id, me)?;
        Ok(view(conn, &c, me, membership)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(conversation))
}
