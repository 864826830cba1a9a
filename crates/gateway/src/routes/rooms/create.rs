//! `POST /v1/rooms`: a new link room.

use actix_web::{HttpResponse, web};
use passerelle_api_types::LinkRoom;
use passerelle_store::rooms::{self, NewRoom};
use uuid::Uuid;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Create a link room. No body. The answer's `link` (a random UUID v4) is
/// what people enter the room with (`enter_room` on the WebSocket); any
/// signed-in user holding it may. Nobody is in the room yet, the caller
/// included; a room nobody enters before `enterBefore` is deleted, and so
/// is a room right after its last participant leaves.
#[utoipa::path(
    post, path = "/v1/rooms", operation_id = "create_room", tag = "rooms",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new room", body = LinkRoom),
    )
)]
pub async fn create(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let settings = &state.settings.rooms;
    let room = NewRoom {
        link: Uuid::new_v4(),
        creator: caller.user_id,
        member_cap: settings.member_cap,
        now: passerelle_store::now(),
    };
    let grace =
        chrono::Duration::from_std(std::time::Duration::from_secs(settings.enter_grace_secs))
            .unwrap_or_default();
    let link = room.link;
    let row = state
        .store
        .transaction(move |c| rooms::create(c, &room))
        .await?;
    metrics::counter!("passerelle_link_rooms_created_total").increment(1);
    Ok(HttpResponse::Created().json(LinkRoom {
        conversation_id: row.id,
        link,
        created_at: row.created_at,
        enter_before: row.created_at + grace,
        member_cap: row.member_cap,
    }))
}
