//! `GET /v1/blocks`: one page of the users the caller blocks.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{BlockList, ErrorBody, PageQuery};
use passerelle_store::social;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::pagination::{self, PageRequest};
use crate::state::AppState;

/// The users the caller blocks, oldest block first, `limit` at a time; pass
/// `nextCursor` back as `cursor` for the next page.
#[utoipa::path(
    get, path = "/v1/blocks", operation_id = "list_blocks", tag = "social",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of blocked users", body = BlockList),
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
        .run(move |conn| social::list_blocks(conn, caller.user_id, page.after, page.limit))
        .await?;
    Ok(HttpResponse::Ok().json(BlockList {
        blocks: result.items.into_iter().map(super::to_api).collect(),
        next_cursor: result.next.map(pagination::encode),
    }))
}
