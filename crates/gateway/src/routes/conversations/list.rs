//! `GET /v1/conversations`: one page of the caller's conversations.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ConversationList, ErrorBody, PageQuery};
use std::collections::HashMap;

use passerelle_store::{conversations, read_markers};

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::pagination::{self, PageRequest};
use crate::state::AppState;

/// The conversations the caller is a member of (direct and groups), in the
/// order they joined them, `limit` at a time; pass `nextCursor` back as
/// `cursor` for the next page. Direct conversations that are message
/// requests to the caller are listed too, with their `request` state. Each
/// carries the caller's `unreadCount` (capped at 1000) and `readUpTo`.
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
    let (result, requests, unread) = state
        .store
        .run(move |conn| {
            let result = conversations::list_for_user(conn, me, page.position(), page.limit)?;
            let ids: Vec<_> = result.items.iter().map(|s| s.conversation.id).collect();
            let requests = conversations::request_states(conn, me, &ids)?;
            // One marker read for the page, then one bounded range scan
            // per conversation (see `read_markers::unread`).
            let markers = read_markers::markers_of(conn, &ids, me)?;
            let mut unread = HashMap::new();
            for s in &result.items {
                let id = s.conversation.id;
                let marker = markers.get(&id).copied();
                let u = read_markers::unread(conn, id, me, s.membership.joined_at, marker)?;
                unread.insert(id, u);
            }
            Ok((result, requests, unread))
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
                if let Some(u) = unread.get(&s.conversation.id) {
                    super::set_unread(&mut c, *u);
                }
                c
            })
            .collect(),
        next_cursor: result.next.map(pagination::encode_position),
    }))
}
