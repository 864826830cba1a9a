//! `GET /v1/conversations/{conversation_id}/messages`: one page of history.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, HistoryQuery, MessagePage};
use passerelle_store::history::{self, Page};
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routing::events::message_event;
use crate::state::AppState;

/// The conversation's message metadata as the caller may see it: only what
/// was sent since they joined, never a message withheld from them, nothing
/// deleted or expired. Newest first, a page at a time (`before` the last
/// item's `serverId` for the next); with `after`, oldest first since a known
/// message.
#[utoipa::path(
    get, path = "/v1/conversations/{conversation_id}/messages",
    operation_id = "list_conversation_messages", tag = "conversations",
    security(("bearer" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation"), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "Malformed query (`invalid_query`)", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not a member (`not_found`)", body = ErrorBody),
        (status = 422, description = "`limit` out of range, or both `before` and `after` (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let conversation = path.into_inner();
    let limit = query.limit.unwrap_or(HistoryQuery::DEFAULT_LIMIT);
    if !(1..=HistoryQuery::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Validation(format!(
            "limit: must be 1 to {}",
            HistoryQuery::MAX_LIMIT
        )));
    }
    let page = match (query.before, query.after) {
        (before, None) => Page::Before(before),
        (None, Some(after)) => Page::After(after),
        (Some(_), Some(_)) => {
            return Err(ApiError::Validation(
                "before and after: give at most one".into(),
            ));
        }
    };
    let user = caller.user_id;
    let found = state
        .store
        .run(move |conn| history::page(conn, conversation, user, page, limit))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(MessagePage {
        messages: found.messages.iter().map(message_event).collect(),
        more: found.more,
    }))
}
