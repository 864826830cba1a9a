//! Read markers: how far each member has read each conversation (the
//! server id of the newest message read, only ever moving forward), the
//! seed's `is_read` / `read_at` on direct messages, the `read` events a
//! marker's move appends, and the `read_receipts` setting that decides
//! whether a direct conversation's peer hears of it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::batch::{Note, append};
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::history::{joined_at, visible_to};
use crate::schema::{blocks, conversations, messages, read_markers, users};
use crate::sql_types::{Id, Ts};
use crate::streams::{EventKind, StreamEvent};
use passerelle_domain::ConversationKind;

/// A member's read position in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The server id of the newest message read.
    pub up_to: Uuid,
    pub read_at: DateTime<Utc>,
}

/// What became of a request to mark a conversation read.
#[derive(Debug, Clone, PartialEq)]
pub enum Marking {
    /// Not a member, or no message with that server id in the conversation
    /// that the member may see.
    NotFound,
    /// The marker already stood at or past it: nothing changed.
    Unchanged(Marker),
    /// The marker moved; the `read` events to publish.
    Moved {
        marker: Marker,
        events: Vec<StreamEvent>,
    },
}

/// `user`'s marker in `conversation`, if they ever marked it read.
pub fn marker(conn: &mut DbConn, conversation: Uuid, user: UserId) -> StoreResult<Option<Marker>> {
    Ok(read_markers::table
        .filter(read_markers::conversation_id.eq(Id(conversation)))
        .filter(read_markers::user_id.eq(Id::from(user)))
        .select((read_markers::message_id, read_markers::read_at))
        .first::<(Id, Ts)>(&mut conn.0)
        .optional()
        .db()?
        .map(|(m, at)| Marker {
            up_to: m.0,
            read_at: at.get(),
        }))
}

/// Marks `conversation` read by `user` up to the message with server id
/// `up_to`, which must be one they may see (as in their history). The
/// marker only moves forward. When it moves: on a direct conversation the
/// peer's messages up to it become `is_read` (at `now`), and a `read`
/// event with `payload` goes to the reader's devices and, on a direct
/// conversation, to the peer's unless the reader turned `read_receipts`
/// off, either blocks the other, or the conversation is a message request
/// (pending or declined). Group members are never told (cost: one event
/// per member's device per read). Call inside a transaction.
pub fn mark(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    up_to: Uuid,
    now: DateTime<Utc>,
    payload: String,
) -> StoreResult<Marking> {
    let Some(joined) = joined_at(conn, conversation, user)? else {
        return Ok(Marking::NotFound);
    };
    let me = Id::from(user);
    let seen = Ts::new(now);
    let found = visible_to!(messages::table, conversation, me, joined, seen)
        .filter(messages::id.eq(Id(up_to)))
        .select(messages::id)
        .first::<Id>(&mut conn.0)
        .optional()
        .db()?;
    if found.is_none() {
        return Ok(Marking::NotFound);
    }
    let at = Ts::new(now);
    // Inserted, or moved forward by one conditional UPDATE (atomic against
    // a concurrent read on another device): never backwards.
    let row = (
        read_markers::conversation_id.eq(Id(conversation)),
        read_markers::user_id.eq(me),
        read_markers::message_id.eq(Id(up_to)),
        read_markers::read_at.eq(at),
    );
    let inserted = on_backend!(conn, |c| diesel::insert_into(read_markers::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .db()?;
    let moved = inserted > 0
        || diesel::update(
            read_markers::table
                .filter(read_markers::conversation_id.eq(Id(conversation)))
                .filter(read_markers::user_id.eq(me))
                .filter(read_markers::message_id.lt(Id(up_to))),
        )
        .set((
            read_markers::message_id.eq(Id(up_to)),
            read_markers::read_at.eq(at),
        ))
        .execute(&mut conn.0)
        .db()?
            > 0;
    if !moved {
        let current = marker(conn, conversation, user)?.unwrap_or(Marker {
            up_to,
            read_at: now,
        });
        return Ok(Marking::Unchanged(current));
    }
    let mut users_told = vec![user];
    if let Some(peer) = direct_peer(conn, conversation, user)? {
        diesel::update(
            messages::table
                .filter(messages::conversation_id.eq(Some(Id(conversation))))
                .filter(messages::id.le(Id(up_to)))
                .filter(messages::sender_id.eq(Id::from(peer)))
                .filter(messages::withheld.eq(false))
                .filter(messages::is_read.eq(false)),
        )
        .set((messages::is_read.eq(true), messages::read_at.eq(Some(at))))
        .execute(&mut conn.0)
        .db()?;
        if tells_peer(conn, conversation, user, peer)? {
            users_told.push(peer);
        }
    }
    let events = append(
        conn,
        &[Note {
            users: users_told,
            kind: EventKind::Read,
            payload,
        }],
        now,
    )?;
    Ok(Marking::Moved {
        marker: Marker {
            up_to,
            read_at: now,
        },
        events,
    })
}

/// The other member of `conversation` if it is a direct one between two
/// users (`None` for groups, rooms and a conversation with oneself).
fn direct_peer(conn: &mut DbConn, conversation: Uuid, me: UserId) -> StoreResult<Option<UserId>> {
    let kind = conversations::table
        .filter(conversations::id.eq(Id(conversation)))
        .select(conversations::kind)
        .first::<String>(&mut conn.0)
        .optional()
        .db()?;
    if kind.as_deref() != Some(ConversationKind::Direct.as_str()) {
        return Ok(None);
    }
    let peer = crate::conversations::peer(conn, conversation, me)?;
    Ok((peer != me).then_some(peer))
}

/// Whether the peer of a direct conversation hears that `reader` read:
/// the reader's `read_receipts` is on, neither blocks the other, and the
/// conversation is not a message request.
fn tells_peer(
    conn: &mut DbConn,
    conversation: Uuid,
    reader: UserId,
    peer: UserId,
) -> StoreResult<bool> {
    let receipts = users::table
        .filter(users::id.eq(Id::from(reader)))
        .select(users::read_receipts)
        .first::<bool>(&mut conn.0)
        .optional()
        .db()?
        .unwrap_or(false);
    if !receipts {
        return Ok(false);
    }
    let (a, b) = (Id::from(reader), Id::from(peer));
    let blocked = diesel::select(diesel::dsl::exists(
        blocks::table.filter(
            blocks::blocker_id
                .eq(a)
                .and(blocks::blocked_id.eq(b))
                .or(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a))),
        ),
    ))
    .get_result::<bool>(&mut conn.0)
    .db()?;
    if blocked {
        return Ok(false);
    }
    Ok(crate::conversations::find_request(conn, conversation)?.is_none())
}
