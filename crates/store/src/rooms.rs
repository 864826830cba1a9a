//! Link rooms: conversations of kind `link`, found by their link (the
//! conversation's `join_token`, a UUID v4) and alive while at least one
//! WebSocket session is in them. Owns `room_presence` (one row per session
//! in a room) and `gateway_nodes` (which nodes are alive), and a room's
//! whole life: creating it, a session entering and leaving (`presence`),
//! deleting it with everything it holds, and what the sweeps need to find
//! rooms nobody entered and sessions of dead nodes (`nodes`).
//!
//! Every change of a room locks its conversation row first
//! ([`crate::conversations::lock`]), so the enters, leaves and sweeps of one
//! room apply one after the other on any node: a room is never deleted
//! under a session that has just entered it, and two last leaves cannot
//! both miss each other.
//!
//! Membership follows presence: a user is a member (role `member`) exactly
//! while one of their sessions is in the room. The send path
//! (`batch::route`) and history, which check membership, therefore need
//! nothing of their own for rooms.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::ConversationKind;
use uuid::Uuid;

use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::conversations::{self, ConversationRow};
use crate::error::{DbResultExt, StoreError, StoreResult};
use crate::schema::{conversations as conversations_table, room_presence};
use crate::sql_types::{Id, Ts};

mod nodes;
mod presence;

pub use nodes::{beat, expire_nodes, orphaned_presence, presence_of_node, retire};
pub use presence::{Departure, Entry, Presence, enter, leave};

/// A new link room, already checked.
#[derive(Debug, Clone)]
pub struct NewRoom {
    /// The link: a fresh random UUID (v4), unique among join tokens.
    pub link: Uuid,
    pub creator: UserId,
    pub member_cap: u32,
    pub now: DateTime<Utc>,
}

/// Creates a link room. Nobody is in it yet: the creator too becomes a
/// participant only by entering it.
pub fn create(conn: &mut DbConn, room: &NewRoom) -> StoreResult<ConversationRow> {
    let id = Uuid::now_v7();
    let ts = Ts::new(room.now);
    let cap = i32::try_from(room.member_cap).unwrap_or(i32::MAX);
    let values = (
        conversations_table::id.eq(Id(id)),
        conversations_table::kind.eq(ConversationKind::Link.as_str()),
        conversations_table::member_cap.eq(cap),
        conversations_table::join_token.eq(Some(Id(room.link))),
        conversations_table::created_by.eq(Some(Id::from(room.creator))),
        conversations_table::created_at.eq(ts),
        conversations_table::updated_at.eq(ts),
    );
    diesel::insert_into(conversations_table::table)
        .values(values)
        .execute(&mut conn.0)
        .db()?;
    conversations::find(conn, id)?
        .ok_or_else(|| StoreError::Internal("new link room vanished".into()))
}

/// The users with a session in room `id`, in the order they entered (each
/// once, by their earliest session).
pub fn participants(conn: &mut DbConn, id: Uuid) -> StoreResult<Vec<UserId>> {
    let rows = room_presence::table
        .filter(room_presence::conversation_id.eq(Id(id)))
        .order((
            room_presence::entered_at.asc(),
            room_presence::user_id.asc(),
        ))
        .select(room_presence::user_id)
        .load::<Id>(&mut conn.0)
        .db()?;
    let mut out: Vec<UserId> = Vec::with_capacity(rows.len());
    for user in rows {
        let user = UserId::from(user);
        if !out.contains(&user) {
            out.push(user);
        }
    }
    Ok(out)
}

/// Deletes room `id` and everything it holds, in the caller's transaction,
/// as any conversation is deleted ([`crate::conversations::delete`]): its
/// messages with their stream events emptied, and the conversation row,
/// whose members and presence rows go with it (cascade). The link is dead
/// from the commit on.
pub fn delete_room(conn: &mut DbConn, id: Uuid) -> StoreResult<()> {
    crate::conversations::delete(conn, id).map(|_| ())
}

/// Link rooms created before `before` that nobody is in (never entered
/// within the grace period), at most `limit`.
pub fn unentered(conn: &mut DbConn, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Uuid>> {
    let ids = on_backend!(conn, |c| conversations_table::table
        .filter(conversations_table::kind.eq(ConversationKind::Link.as_str()))
        .filter(conversations_table::created_at.lt(Ts::new(before)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            room_presence::table.filter(room_presence::conversation_id.eq(conversations_table::id))
        )))
        .select(conversations_table::id)
        .limit(i64::from(limit))
        .load::<Id>(c))
    .db()?;
    Ok(ids.into_iter().map(|i| i.0).collect())
}

/// Deletes room `id` if, under its lock, it still was created before
/// `before` and nobody is in it; says whether it did. Call inside a
/// transaction.
pub fn delete_if_unentered(
    conn: &mut DbConn,
    id: Uuid,
    before: DateTime<Utc>,
) -> StoreResult<bool> {
    let Some(room) = conversations::lock(conn, id)? else {
        return Ok(false);
    };
    if room.kind != ConversationKind::Link
        || room.created_at >= before
        || !participants(conn, id)?.is_empty()
    {
        return Ok(false);
    }
    delete_room(conn, id)?;
    Ok(true)
}
