//! `/v1/message-requests`: the caller's inbox of message requests ("who can
//! message me"). With `messagePolicy: contacts`, a direct conversation that
//! someone outside the caller's contacts starts is a request to the caller:
//! its messages are delivered as a request until the caller accepts (an
//! ordinary conversation from then on) or declines (the requester's later
//! messages are withheld, like a block's). Only the addressee sees or
//! answers a request: anyone else, the requester included, gets the same
//! 404 as for an id that names nothing, so the requester cannot learn the
//! policy from here.

pub mod accept;
pub mod decline;
pub mod list;

use chrono::{DateTime, Utc};
use passerelle_api_types::ws::ConversationChange;
use passerelle_domain::UserId;
use passerelle_store::DbConn;
use passerelle_store::conversations;
use passerelle_store::streams::StreamEvent;
use uuid::Uuid;

use crate::error::ApiError;
use crate::routes::conversations::{Notes, Subject};

/// Accepts the request of `conversation` to `me` (pending or declined), in
/// the caller's transaction, with `request_accepted` for both users'
/// devices; `None` when there is no request to `me`. Shared by the accept
/// endpoint and adding the requester as a contact.
pub(crate) fn accept_now(
    conn: &mut DbConn,
    conversation: Uuid,
    me: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Vec<StreamEvent>>, ApiError> {
    let Some(request) = conversations::accept_request(conn, conversation, me)? else {
        return Ok(None);
    };
    let mut notes = Notes::default();
    notes.push(
        vec![request.requester_id, me],
        conversation,
        ConversationChange::RequestAccepted,
        Subject::of(request.requester_id, me),
        now,
    )?;
    Ok(Some(notes.append(conn, now)?))
}
