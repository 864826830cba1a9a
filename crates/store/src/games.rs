//! Game invitations: the rows of `game_invites`, one per `game_invite`
//! message, written with the message by the batch (`batch::games`) and
//! deleted with it (a foreign key on `messages.message_id`, so a retracted
//! or deleted message takes its invitation along).
//!
//! State changes are conditional updates (`… WHERE state = 'pending'`), so
//! two racing answers, or an answer and the expiry sweep, on any node,
//! cannot both win. Who may answer is the gateway's business; a pending
//! invitation whose `expires_at` has passed counts as expired before the
//! sweep ([`expire_due`]) gets to it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{game_invites, messages};
use crate::sql_types::{Id, Ts};
use crate::streams::MessageRow;

/// The `message_type` of a game invitation.
pub const GAME_INVITE: &str = "game_invite";

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GameState {
    Pending,
    Accepted,
    Declined,
    Expired,
    Cancelled,
}

impl GameState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// An unknown stored value (impossible under the CHECK) reads as
    /// `Expired`: nothing can be done with it any more.
    fn from_stored(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "declined" => Self::Declined,
            "cancelled" => Self::Cancelled,
            _ => Self::Expired,
        }
    }
}

/// One invitation, with whether its message is withheld from the invitee
/// (then it does not exist for them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameInviteRow {
    /// The sender's `messageId` of the `game_invite` message.
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub inviter_id: UserId,
    pub invitee_id: UserId,
    pub game_id: String,
    pub state: GameState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub withheld: bool,
}

impl GameInviteRow {
    /// The state as of `now`: a pending invitation past its expiry is
    /// expired, swept or not.
    pub fn state_at(&self, now: DateTime<Utc>) -> GameState {
        match self.state {
            GameState::Pending if self.expires_at <= now => GameState::Expired,
            s => s,
        }
    }

    /// Whether `user` may know of it: the inviter always, the invitee
    /// unless its message is withheld from them.
    pub fn visible_to(&self, user: UserId) -> bool {
        user == self.inviter_id || (user == self.invitee_id && !self.withheld)
    }

    /// The users whose devices hear of its changes: the inviter, and the
    /// invitee unless it is withheld from them.
    pub fn audience(&self) -> Vec<UserId> {
        if self.withheld {
            vec![self.inviter_id]
        } else {
            vec![self.inviter_id, self.invitee_id]
        }
    }
}

/// A row as selected (schema order).
pub(crate) type Record = (Id, Id, Id, Id, String, String, Ts, Ts, Option<Ts>);

fn row(r: Record, withheld: bool) -> GameInviteRow {
    GameInviteRow {
        message_id: r.0.0,
        conversation_id: r.1.0,
        inviter_id: r.2.into(),
        invitee_id: r.3.into(),
        game_id: r.4,
        state: GameState::from_stored(&r.5),
        created_at: r.6.get(),
        expires_at: r.7.get(),
        decided_at: r.8.map(Ts::get),
        withheld,
    }
}

/// A new invitation, written by the batch with its message.
#[derive(Insertable)]
#[diesel(table_name = game_invites, treat_none_as_default_value = false)]
pub(crate) struct NewInvite {
    pub message_id: Id,
    pub conversation_id: Id,
    pub inviter_id: Id,
    pub invitee_id: Id,
    pub game_id: String,
    pub state: &'static str,
    pub created_at: Ts,
    pub expires_at: Ts,
    pub decided_at: Option<Ts>,
}

/// Inserts `rows` (their messages are already stored).
pub(crate) fn insert(conn: &mut DbConn, rows: &[NewInvite]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    on_backend!(conn, |c| diesel::insert_into(game_invites::table)
        .values(rows)
        .execute(c))
    .db()?;
    Ok(())
}

/// The invitation of the `game_invite` message `message_id` (the sender's
/// id), if there is one.
pub fn find(conn: &mut DbConn, message_id: Uuid) -> StoreResult<Option<GameInviteRow>> {
    let found = game_invites::table
        .inner_join(messages::table.on(messages::message_id.eq(game_invites::message_id)))
        .filter(game_invites::message_id.eq(Id(message_id)))
        .select((game_invites::all_columns, messages::withheld))
        .first::<(Record, bool)>(&mut conn.0)
        .optional()
        .db()?;
    Ok(found.map(|(r, w)| row(r, w)))
}

/// Moves the pending invitation `message_id` to `to` at `now`, if it is
/// still pending and (unless `to` is `Expired`) not past its expiry. The
/// new row, or `None` when it was not pending any more.
pub fn decide(
    conn: &mut DbConn,
    message_id: Uuid,
    to: GameState,
    now: DateTime<Utc>,
) -> StoreResult<Option<GameInviteRow>> {
    let pending = game_invites::table
        .filter(game_invites::message_id.eq(Id(message_id)))
        .filter(game_invites::state.eq(GameState::Pending.as_str()));
    let changes = (
        game_invites::state.eq(to.as_str()),
        game_invites::decided_at.eq(Some(Ts::new(now))),
    );
    let n = if to == GameState::Expired {
        diesel::update(pending).set(changes).execute(&mut conn.0)
    } else {
        diesel::update(pending.filter(game_invites::expires_at.gt(Ts::new(now))))
            .set(changes)
            .execute(&mut conn.0)
    }
    .db()?;
    if n == 0 {
        return Ok(None);
    }
    find(conn, message_id)
}

/// Marks up to `limit` pending invitations due by `now` as expired (the
/// oldest first, read from the partial index on pending expiries) and
/// returns them. Call again while it returns `limit`.
pub fn expire_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<GameInviteRow>> {
    let due: Vec<Id> = game_invites::table
        .filter(game_invites::state.eq(GameState::Pending.as_str()))
        .filter(game_invites::expires_at.le(Ts::new(now)))
        .order(game_invites::expires_at.asc())
        .limit(i64::from(limit))
        .select(game_invites::message_id)
        .load::<Id>(&mut conn.0)
        .db()?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // Only the rows still pending now: another node's sweep, or an answer,
    // may have taken some meanwhile.
    let expired: Vec<Id> = on_backend!(conn, |c| diesel::update(
        game_invites::table
            .filter(game_invites::message_id.eq_any(&due))
            .filter(game_invites::state.eq(GameState::Pending.as_str())),
    )
    .set((
        game_invites::state.eq(GameState::Expired.as_str()),
        game_invites::decided_at.eq(Some(Ts::new(now))),
    ))
    .returning(game_invites::message_id)
    .get_results::<Id>(c))
    .db()?;
    if expired.is_empty() {
        return Ok(Vec::new());
    }
    let rows = on_backend!(conn, |c| game_invites::table
        .inner_join(messages::table.on(messages::message_id.eq(game_invites::message_id)))
        .filter(game_invites::message_id.eq_any(&expired))
        .order(game_invites::expires_at.asc())
        .select((game_invites::all_columns, messages::withheld))
        .load::<(Record, bool)>(c))
    .db()?;
    Ok(rows.into_iter().map(|(r, w)| row(r, w)).collect())
}

/// Sets `game_id` on the `game_invite` messages among `rows` (read back
/// from `messages`, which does not hold it): one statement, and none when
/// there is no invitation among them.
pub(crate) fn attach_game_ids<'a>(
    conn: &mut DbConn,
    rows: impl IntoIterator<Item = &'a mut MessageRow>,
) -> StoreResult<()> {
    let wanted: Vec<&mut MessageRow> = rows
        .into_iter()
        .filter(|m| m.message_type == GAME_INVITE)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<Id> = wanted.iter().map(|m| Id(m.message_id)).collect();
    let found: HashMap<Uuid, String> = on_backend!(conn, |c| game_invites::table
        .filter(game_invites::message_id.eq_any(&ids))
        .select((game_invites::message_id, game_invites::game_id))
        .load::<(Id, String)>(c))
    .db()?
    .into_iter()
    .map(|(id, game)| (id.0, game))
    .collect();
    for m in wanted {
        m.game_id = found.get(&m.message_id).cloned();
    }
    Ok(())
}
