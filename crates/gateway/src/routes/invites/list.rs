//! `GET /v1/invites`: one page of the caller's pending invitations.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, Invite, InviteList, PageQuery};
use passerelle_store::conversations;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::pagination::{self, PageRequest};
use crate::state::AppState;

/// The caller's pending invitations, oldest first, `limit` at a time.
#[utoipa::path(
    get, path = "/v1/invites", operation_id = "list_invites", tag = "conversations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of invitations", body = InviteList),
        (status = 400, description = "Malformed query or cursor (`invalid_query`)", body = ErrorBody),
        (status = 422, description = "`limit` out of range (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_query(&query)?;
    let result = state
        .store
        .run(move |conn| {
            conversations::list_invites(conn, caller.user_id, page.position(), page.limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(InviteList {
        invites: result
            .items
            .into_iter()
            .map(|p| Invite {
                conversation_id: p.conversation.id,
                name: p.conversation.name,
                title: p.conversation.title,
                member_count: p.member_count,
                inviter_id: p.invite.inviter_id.0,
                invited_at: p.invite.created_at,
            })
            .collect(),
        next_cursor: result.next.map(pagination::encode_position),
    }))
}
