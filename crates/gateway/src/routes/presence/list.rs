//! `GET /v1/presence`: the presence of the caller's contacts, one page at a
//! time: what a client shows when it connects, before the live `presence`
//! frames.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, PageQuery, PresenceList};
use passerelle_store::{presence, social};

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::pagination::{self, PageRequest};
use crate::state::AppState;

/// The caller's contacts' presence, in the order they were added (the
/// order and cursor of `GET /v1/contacts`), `limit` at a time. A contact
/// whose presence the caller may not see is `hidden`.
#[utoipa::path(
    get, path = "/v1/presence", operation_id = "list_presence", tag = "presence",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the contacts' presence", body = PresenceList),
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
    let now = passerelle_store::now();
    let (seen, next) = state
        .store
        .run(move |conn| {
            let contacts = social::list_contacts(conn, me, page.after, page.limit)?;
            let ids: Vec<_> = contacts.items.iter().map(|c| c.profile.user_id).collect();
            let mut seen = presence::seen_by(conn, me, &ids, now)?;
            // In list order.
            seen.sort_by_key(|s| ids.iter().position(|id| *id == s.user));
            Ok((seen, contacts.next))
        })
        .await?;
    Ok(HttpResponse::Ok().json(PresenceList {
        presence: seen.iter().map(|s| super::view_of(me, s)).collect(),
        next_cursor: next.map(pagination::encode),
    }))
}
