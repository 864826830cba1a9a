//! `GET /v1/conversations/{id}/members`: one page of a conversation's
//! members.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, Member, MemberList, PageQuery};
use passerelle_store::conversations;
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::conversations::{Access, reading, role};
use crate::routes::pagination::{self, PageRequest};
use crate::state::AppState;

/// The members of a conversation the caller is a member of, in the order
/// they joined, `limit` at a time. Outsiders who may see the conversation
/// (a public group, an invitation) get 403; anyone else the same 404 as for
/// an unknown id.
#[utoipa::path(
    get, path = "/v1/conversations/{id}/members", operation_id = "list_members", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The conversation"), PageQuery),
    responses(
        (status = 200, description = "A page of members", body = MemberList),
        (status = 400, description = "Malformed query or cursor (`invalid_query`)", body = ErrorBody),
        (status = 403, description = "Not a member (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller (`not_found`)", body = ErrorBody),
        (status = 422, description = "`limit` out of range (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::from_query(&query)?;
    let id = path.into_inner();
    let me = caller.user_id;
    let result = reading(&state, move |conn| {
        Access::load(conn, id, me, false)?.role()?;
        Ok(conversations::list_members(
            conn,
            id,
            page.position(),
            page.limit,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MemberList {
        members: result
            .items
            .into_iter()
            .map(|m| Member {
                user_id: m.user_id.0,
                username: m.username,
                role: role(m.role),
                joined_at: m.joined_at,
            })
            .collect(),
        next_cursor: result.next.map(pagination::encode_position),
    }))
}
