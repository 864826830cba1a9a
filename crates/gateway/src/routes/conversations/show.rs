//! `GET /v1/conversations/{id}`: one conversation.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Conversation, ErrorBody};
use uuid::Uuid;

use super::{Access, view};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A conversation the caller is a member of, is invited to, or a public
/// group. Anything else is the same 404 as an id that names nothing.
#[utoipa::path(
    get, path = "/v1/conversations/{id}", operation_id = "show_conversation", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation as the caller sees it", body = Conversation),
        (status = 404, description = "No such conversation visible to the caller (`not_found`)", body = ErrorBody),
    )
)]
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let conversation = super::reading(&state, move |conn| {
        let access = Access::load(conn, id, me, false)?;
        Ok(view(conn, &access.conversation, me, access.membership)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(conversation))
}
