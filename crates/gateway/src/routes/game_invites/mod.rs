//! `/v1/game-invites/{messageId}`: game invitations (seed 002). A
//! `game_invite` message (direct conversations only) carries a game id and
//! makes a pending invitation; the invitee accepts or declines it, the
//! inviter may cancel it, and the sweeper expires it after
//! `conversations.game_invite_ttl_secs`. Every change is a `game` event on
//! both users' devices, written in the same transaction.
//!
//! Who may know an invitation: its inviter, and its invitee unless the
//! message is withheld from them (a block, a declined message request).
//! Anyone else gets the same 404 as for an id that names nothing; a user
//! who knows it but may not make this change gets 403; an invitation that
//! is no longer pending is `409 invite_not_pending`.

pub mod accept;
pub mod cancel;
pub mod decline;
pub mod show;

use passerelle_api_types::GameInvite;
use passerelle_domain::UserId;
use passerelle_store::games::{self, GameInviteRow, GameState};
use uuid::Uuid;

use crate::error::ApiError;
use crate::routes::conversations::{atomically, publish};
use crate::routing::events::{game_note, game_state};
use crate::state::AppState;

/// The invitation as `at` sees it (a pending one past its expiry reads as
/// expired).
pub(crate) fn to_api(g: &GameInviteRow, at: chrono::DateTime<chrono::Utc>) -> GameInvite {
    GameInvite {
        message_id: g.message_id,
        conversation_id: g.conversation_id,
        inviter_id: g.inviter_id.0,
        invitee_id: g.invitee_id.0,
        game_id: g.game_id.clone(),
        state: game_state(g.state_at(at)),
        created_at: g.created_at,
        expires_at: g.expires_at,
        decided_at: g.decided_at,
    }
}

/// Who may make a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Inviter,
    Invitee,
}

/// What a change attempt did.
enum Decided {
    Done(GameInviteRow, Vec<passerelle_store::streams::StreamEvent>),
    /// It had expired without the sweep noticing yet: it is marked expired
    /// now (and announced), and the change is refused.
    Expired(Vec<passerelle_store::streams::StreamEvent>),
}

/// Moves the invitation `id` to `to`, made by `me`, who must be `party`:
/// one transaction with its `game` event. 404 when `me` may not know it,
/// 403 for the wrong party, 409 when it is no longer pending.
async fn decide(
    state: &AppState,
    me: UserId,
    id: Uuid,
    party: Party,
    to: GameState,
) -> Result<GameInvite, ApiError> {
    let now = passerelle_store::now();
    let decided = atomically(state, move |conn| {
        let invite = games::find(conn, id)?
            .filter(|g| g.visible_to(me))
            .ok_or(ApiError::NotFound)?;
        let allowed = match party {
            Party::Inviter => invite.inviter_id == me,
            Party::Invitee => invite.invitee_id == me,
        };
        if !allowed {
            return Err(ApiError::Forbidden(match party {
                Party::Inviter => "only the inviter may cancel an invitation",
                Party::Invitee => "only the invitee may answer an invitation",
            }));
        }
        if let Some(done) = games::decide(conn, id, to, now)? {
            let events =
                passerelle_store::batch::append(conn, &[game_note(&done, to, Some(me), now)], now)?;
            return Ok(Decided::Done(done, events));
        }
        // Not pending, or past its expiry and not swept yet.
        match games::decide(conn, id, GameState::Expired, now)? {
            Some(expired) => {
                let note = game_note(&expired, GameState::Expired, None, now);
                Ok(Decided::Expired(passerelle_store::batch::append(
                    conn,
                    &[note],
                    now,
                )?))
            }
            None => Err(ApiError::InviteNotPending),
        }
    })
    .await?;
    match decided {
        Decided::Done(invite, events) => {
            publish(state, &events).await;
            Ok(to_api(&invite, now))
        }
        Decided::Expired(events) => {
            publish(state, &events).await;
            Err(ApiError::InviteNotPending)
        }
    }
}
