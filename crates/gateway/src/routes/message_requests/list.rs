//! `GET /v1/message-requests`: one page of the caller's pending requests.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, MessageRequest, MessageRequestList, PageQuery};
use passerelle_store::conversations::{self, RequestEntry};
use passerelle_store::social::Listed;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::pagination::{self, PageRequest};
use crate::routes::users::visible_fields;
use crate::state::AppState;

/// The caller's pending message requests, oldest first, `limit` at a time;
/// pass `nextCursor` back as `cursor` for the next page. Requests from
/// users the caller blocks are not listed while the block lasts.
#[utoipa::path(
    get, path = "/v1/message-requests", operation_id = "list_message_requests", tag = "conversations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of pending requests", body = MessageRequestList),
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
            conversations::list_requests(conn, caller.user_id, page.position(), page.limit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MessageRequestList {
        requests: result.items.into_iter().map(to_api).collect(),
        next_cursor: result.next.map(pagination::encode_position),
    }))
}

/// The requester's profile as the caller may see it (display name and
/// avatar only when visible, as in the contact list).
fn to_api(entry: RequestEntry) -> MessageRequest {
    let listed = Listed {
        profile: entry.requester,
        since: entry.request.created_at,
        relation: entry.relation,
    };
    let (display_name, avatar_blob_id) = visible_fields(&listed);
    MessageRequest {
        conversation_id: entry.request.conversation_id,
        requester: passerelle_api_types::PublicProfile {
            user_id: listed.profile.user_id.0,
            username: listed.profile.username,
            display_name,
            avatar_blob_id,
        },
        created_at: entry.request.created_at,
    }
}
