//! `GET /v1/conversations`: one page of the caller's conversations.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ConversationList, ErrorBody, PageQuery};
use passerelle_store::conversations;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::pagination::{self, PageRequest};
use crate::state::AppState;

/// The conversations the caller is a member of (direct and groups), in the
/// order they joined them, `limit` at a time; pass `nextCursor` back as
/// `cursor` for the next page. Direct conversations that are message
/// requests to the caller are listed too, with their `request` state.
#[utoipa::path(
    get, path = "/v1/conversations", operation_id = "list_conversations", tag = "conversations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationList),
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
    let me = caller.user_id;
    let (result, requests) = state
        .store
        .run(move |conn| {
            let result = conversations::list_for_user(conn, me, page.position(), page.limit)?;
            let ids: Vec<_> = result.items.iter().map(|s| s.conversation.id).collect();
            let requests = conversations::request_states(conn, me, &ids)?;
            Ok((result, requests))
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConversationList {
        conversations: result
            .items
            .iter()
            .map(|s| {
                let mut c =
                    super::to_api(&s.conversation, Some(s.membership), s.member_count, s.peer);
                c.request = requests
                    .get(&s.conversation.id)
                    .map(|r| super::request_state(*r));
                c
            })
            .collect(),
        next_cursor: result.next.map(pagination::encode_position),
    }))
}
