//! A session entering and leaving a link room: its presence row, the
//! user's membership (held while any of their sessions is in the room), and
//! the room's deletion when its last session leaves.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::{ConversationKind, Role};
use uuid::Uuid;

use super::{delete_room, participants};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::conversations;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::room_presence;
use crate::sql_types::{Id, Ts};

/// Who is entering: the session, its user, and the node serving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub connection: Uuid,
    pub user: UserId,
    pub node: Uuid,
}

/// What became of an enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The session is in the room.
    Entered {
        conversation: Uuid,
        /// Everyone in the room now, the entering user included, in the
        /// order they entered.
        participants: Vec<UserId>,
        /// The user was not in the room before (no other session of theirs
        /// was): a new participant.
        joined: bool,
    },
    /// No live room has this link.
    NotFound,
    /// The room has as many members as its cap allows.
    Full,
}

/// What became of a leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    pub conversation: Uuid,
    pub user: UserId,
    /// The user has no session left in the room and is no longer a member.
    pub left: bool,
    /// Nobody is left: the room and everything it held are deleted.
    pub closed: bool,
    /// The users still in the room.
    pub remaining: Vec<UserId>,
}

/// Puts session `who` in the room whose link is `link`, making its user a
/// member if they are not one yet. Entering again from the same session
/// changes nothing. Call inside a transaction.
pub fn enter(
    conn: &mut DbConn,
    link: Uuid,
    who: &Presence,
    now: DateTime<Utc>,
) -> StoreResult<Entry> {
    let Some(found) = conversations::find_by_join_token(conn, link)? else {
        return Ok(Entry::NotFound);
    };
    // Under the lock, the room must still be there (not deleted by its last
    // leave meanwhile).
    let Some(room) = conversations::lock(conn, found.id)?
        .filter(|c| c.kind == ConversationKind::Link && c.join_token == Some(link))
    else {
        return Ok(Entry::NotFound);
    };
    let joined = !user_present(conn, room.id, who.user)?;
    if conversations::membership(conn, room.id, who.user)?.is_none() {
        if conversations::member_count(conn, room.id)? >= room.member_cap {
            return Ok(Entry::Full);
        }
        conversations::add_member(conn, room.id, who.user, Role::Member, now)?;
    }
    let values = (
        room_presence::conversation_id.eq(Id(room.id)),
        room_presence::connection_id.eq(Id(who.connection)),
        room_presence::user_id.eq(Id::from(who.user)),
        room_presence::node_id.eq(Id(who.node)),
        room_presence::entered_at.eq(Ts::new(now)),
    );
    on_backend!(conn, |c| diesel::insert_into(room_presence::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))
    .db()?;
    Ok(Entry::Entered {
        conversation: room.id,
        participants: participants(conn, room.id)?,
        joined,
    })
}

/// Takes session `connection` out of room `conversation`. When it was its
/// user's last session there, the user stops being a member; when it was
/// the room's last session, the room is deleted ([`delete_room`]). `None`
/// when the session was not in the room (already removed by a sweep, or
/// the room is gone). Call inside a transaction.
pub fn leave(
    conn: &mut DbConn,
    conversation: Uuid,
    connection: Uuid,
) -> StoreResult<Option<Departure>> {
    let Some(room) = conversations::lock(conn, conversation)? else {
        return Ok(None);
    };
    if room.kind != ConversationKind::Link {
        return Ok(None);
    }
    let row = room_presence::table
        .filter(room_presence::conversation_id.eq(Id(conversation)))
        .filter(room_presence::connection_id.eq(Id(connection)))
        .select(room_presence::user_id)
        .first::<Id>(&mut conn.0)
        .optional()
        .db()?;
    let Some(user) = row.map(UserId::from) else {
        return Ok(None);
    };
    diesel::delete(
        room_presence::table
            .filter(room_presence::conversation_id.eq(Id(conversation)))
            .filter(room_presence::connection_id.eq(Id(connection))),
    )
    .execute(&mut conn.0)
    .db()?;
    let left = !user_present(conn, conversation, user)?;
    if left {
        conversations::remove_member(conn, conversation, user)?;
    }
    let remaining = participants(conn, conversation)?;
    let closed = remaining.is_empty();
    if closed {
        delete_room(conn, conversation)?;
    }
    Ok(Some(Departure {
        conversation,
        user,
        left,
        closed,
        remaining,
    }))
}

/// Whether `user` has a session in room `conversation`.
fn user_present(conn: &mut DbConn, conversation: Uuid, user: UserId) -> StoreResult<bool> {
    let found = room_presence::table
        .filter(room_presence::conversation_id.eq(Id(conversation)))
        .filter(room_presence::user_id.eq(Id::from(user)))
        .select(room_presence::connection_id)
        .first::<Id>(&mut conn.0)
        .optional()
        .db()?;
    Ok(found.is_some())
}
