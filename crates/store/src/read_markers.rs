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

/// The most unread messages counted in one conversation: past it the count
/// stops (`capped`), so reading a count costs at most this many rows.
pub const UNREAD_CAP: u32 = 1000;

/// A member's unread state in one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unread {
    /// Messages from others that the member may see, after their marker
    /// (all since they joined without one); at most [`UNREAD_CAP`].
    pub count: u32,
    /// More than [`UNREAD_CAP`] are unread.
    pub capped: bool,
    /// The marker's server id, if they ever marked it read.
    pub up_to: Option<Uuid>,
}

/// A server id is made when the gateway accepts a `message` frame and its
/// `created_at` when its batch commits, a little later: a scan that starts
/// at a join starts this much earlier, so that a message accepted before
/// the join but stored after it is still counted (`created_at` decides).
pub const JOIN_SLACK_SECS: i64 = 300;

/// The smallest UUID v7 of `at`'s millisecond: server ids (UUID v7) of
/// messages stored at or after `at` sort at or after it.
fn v7_floor(at: DateTime<Utc>) -> Uuid {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

/// `user`'s unread state in `conversation`, which they joined at `joined`,
/// with their `marker` (as [`markers_of`] read it). One index range scan
/// of `messages (conversation_id, id)` starting after the marker (or, with
/// none, at the join less [`JOIN_SLACK_SECS`]), stopping after
/// [`UNREAD_CAP`] + 1 matches: the cost is bounded by the messages after
/// the marker, never the conversation's whole history.
pub fn unread(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    joined: DateTime<Utc>,
    marker: Option<Uuid>,
) -> StoreResult<Unread> {
    let me = Id::from(user);
    let now = Ts::new(crate::now());
    let floor = v7_floor(joined - chrono::Duration::seconds(JOIN_SLACK_SECS));
    let start = marker.filter(|m| *m >= floor);
    let mut query = visible_to!(messages::table, conversation, me, joined, now)
        .filter(messages::sender_id.ne(me))
        .select(messages::id)
        .order(messages::id.asc())
        .limit(i64::from(UNREAD_CAP) + 1)
        .into_boxed();
    query = match start {
        Some(m) => query.filter(messages::id.gt(Id(m))),
        None => query.filter(messages::id.ge(Id(floor))),
    };
    let found = query.load::<Id>(&mut conn.0).db()?.len();
    let count = u32::try_from(found).unwrap_or(u32::MAX);
    Ok(Unread {
        count: count.min(UNREAD_CAP),
        capped: count > UNREAD_CAP,
        up_to: marker,
    })
}

/// `user`'s markers in `conversations`, in one statement.
pub fn markers_of(
    conn: &mut DbConn,
    conversations: &[Uuid],
    user: UserId,
) -> StoreResult<std::collections::HashMap<Uuid, Uuid>> {
    if conversations.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let ids: Vec<Id> = conversations.iter().map(|c| Id(*c)).collect();
    let rows = on_backend!(conn, |c| read_markers::table
        .filter(read_markers::user_id.eq(Id::from(user)))
        .filter(read_markers::conversation_id.eq_any(&ids))
        .select((read_markers::conversation_id, read_markers::message_id))
        .load::<(Id, Id)>(c))
    .db()?;
    Ok(rows.into_iter().map(|(c, m)| (c.0, m.0)).collect())
}
