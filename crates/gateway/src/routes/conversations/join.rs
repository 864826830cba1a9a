//! `POST /v1/conversations/{id}/join`: join a public group.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Conversation, ErrorBody};
use passerelle_domain::Visibility;
use uuid::Uuid;

use super::{Access, atomically, join_now, publish, view};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Join a public group: no invitation needed, and nobody's blocks stand in
/// the way (a block keeps messages apart, not people out of a public
/// group). 201 when joined now, 200 when already a member. Every member
/// gets `member_joined`. A pending invitation to the group is used up.
#[utoipa::path(
    post, path = "/v1/conversations/{id}/join", operation_id = "join_conversation", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A public group")),
    responses(
        (status = 201, description = "Joined", body = Conversation),
        (status = 200, description = "Already a member", body = Conversation),
        (status = 403, description = "A private group the caller is invited to: accept the invitation instead (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such conversation visible to the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "The group is full (`member_cap_reached`)", body = ErrorBody),
    )
)]
pub async fn join(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, events) = atomically(&state, move |conn| {
        let access = Access::load(conn, id, me, true)?;
        if access.membership.is_some() {
            return Ok((
                view(conn, &access.conversation, me, access.membership)?,
                None,
            ));
        }
        let c = access.group()?;
        if c.visibility != Visibility::Public {
            return Err(ApiError::Forbidden(
                "a private group is joined by invitation or join link",
            ));
        }
        let (conversation, events) = join_now(conn, c, me, now)?;
        Ok((conversation, Some(events)))
    })
    .await?;
    match events {
        Some(events) => {
            publish(&state, &events).await;
            Ok(HttpResponse::Created().json(conversation))
        }
        None => Ok(HttpResponse::Ok().json(conversation)),
    }
}
