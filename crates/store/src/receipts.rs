//! A message's delivery and read state as its sender may see it: how many
//! of its recipients have it, how many have read it, and (for small
//! conversations) who. Computed when asked, from positions the members
//! already keep: their delivery marker (moved by their devices'
//! acknowledgements, `batch::delivered`) and their read marker
//! (`read_markers`). Nothing is written per message or per member on send,
//! acknowledgement or read; a question costs one read of the
//! conversation's members with both markers (O(members), by the sender
//! only, when they ask).
//!
//! Who counts and what is shown:
//! - **Recipients** are the members now, other than the sender, who joined
//!   at or before the message was stored (those who could ever see it).
//!   Members who left are no longer counted.
//! - **Delivered**: the member's delivery marker is at or past the message
//!   (a device of theirs acknowledged it or a later message from someone
//!   else), or their read counts (below).
//! - **Read**: their read marker is at or past it, their `read_receipts`
//!   is on, and the conversation is not a message request.
//! - **Blocks hide everything**: a recipient who blocks the sender, or whom
//!   the sender blocks, or from whom the message was withheld, stays a
//!   recipient that has neither received nor read it, exactly like one
//!   whose devices never came online; nothing tells the two apart.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::history::{joined_at, visible_to};
use crate::schema::{
    blocks, conversation_members, conversations, delivery_markers, messages, read_markers, users,
};
use crate::sql_types::{Id, Ts};
use passerelle_domain::ConversationKind;

/// Recipients up to this many are listed one by one ([`Receipts::members`]);
/// above it only the counts are given.
pub const MEMBER_LIST_MAX: usize = 100;

/// One recipient's state. Positions, not times: a marker's time is when
/// it last moved, which for an older message is only a later bound (and,
/// after a block is lifted, would tell when the blocker was active).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberState {
    pub user_id: UserId,
    pub delivered: bool,
    pub read: bool,
}

/// A message's state for its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipts {
    /// The message's server id.
    pub server_id: Uuid,
    pub recipients: u32,
    pub delivered: u32,
    pub read: u32,
    /// Every recipient in the order they joined, when there are at most
    /// [`MEMBER_LIST_MAX`].
    pub members: Option<Vec<MemberState>>,
}

/// One member row: user, read receipts on, delivery and read markers.
type Row = (Id, bool, Option<Id>, Option<Id>);

/// The state of the message `message_id` (the sender's id) of
/// `conversation` for `sender`; `None` when `sender` is not a member, no
/// such message is in the conversation for them (expired, retracted,
/// before they joined), or it is someone else's: the caller answers all
/// of these alike.
pub fn of_message(
    conn: &mut DbConn,
    conversation: Uuid,
    sender: UserId,
    message_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<Option<Receipts>> {
    let Some(joined) = joined_at(conn, conversation, sender)? else {
        return Ok(None);
    };
    let me = Id::from(sender);
    let seen = Ts::new(now);
    let found = visible_to!(messages::table, conversation, me, joined, seen)
        .filter(messages::message_id.eq(Id(message_id)))
        .filter(messages::sender_id.eq(me))
        .select((messages::id, messages::created_at, messages::withheld))
        .first::<(Id, Ts, bool)>(&mut conn.0)
        .optional()
        .db()?;
    let Some((server_id, created_at, withheld)) = found else {
        return Ok(None);
    };
    let server_id = server_id.0;
    let kind = conversations::table
        .filter(conversations::id.eq(Id(conversation)))
        .select(conversations::kind)
        .first::<String>(&mut conn.0)
        .db()?;
    // A message request's requester learns nothing of the addressee's reading.
    let request = kind == ConversationKind::Direct.as_str()
        && crate::conversations::find_request(conn, conversation)?.is_some();
    let rows: Vec<Row> = conversation_members::table
        .inner_join(users::table.on(users::id.eq(conversation_members::user_id)))
        .left_join(
            delivery_markers::table.on(delivery_markers::conversation_id
                .eq(conversation_members::conversation_id)
                .and(delivery_markers::user_id.eq(conversation_members::user_id))),
        )
        .left_join(
            read_markers::table.on(read_markers::conversation_id
                .eq(conversation_members::conversation_id)
                .and(read_markers::user_id.eq(conversation_members::user_id))),
        )
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .filter(conversation_members::user_id.ne(me))
        .filter(conversation_members::joined_at.le(created_at))
        .order((
            conversation_members::joined_at.asc(),
            conversation_members::user_id.asc(),
        ))
        .select((
            conversation_members::user_id,
            users::read_receipts,
            delivery_markers::message_id.nullable(),
            read_markers::message_id.nullable(),
        ))
        .load::<Row>(&mut conn.0)
        .db()?;
    let blocked = blocked_either_way(conn, sender)?;
    let mut out = Receipts {
        server_id,
        recipients: 0,
        delivered: 0,
        read: 0,
        members: None,
    };
    let mut members = Vec::with_capacity(rows.len().min(MEMBER_LIST_MAX));
    let past = |marker: Option<Id>| marker.is_some_and(|m| m.0 >= server_id);
    for (user, receipts_on, delivered_to, read_to) in rows {
        let user = UserId::from(user);
        out.recipients += 1;
        let shown = !(withheld || blocked.contains(&user));
        let read = shown && receipts_on && !request && past(read_to);
        let state = MemberState {
            user_id: user,
            // Read implies delivered (a member may read through history
            // without any device acknowledging).
            delivered: shown && (past(delivered_to) || read),
            read,
        };
        out.delivered += u32::from(state.delivered);
        out.read += u32::from(state.read);
        if members.len() < MEMBER_LIST_MAX {
            members.push(state);
        }
    }
    if out.recipients as usize <= MEMBER_LIST_MAX {
        out.members = Some(members);
    }
    Ok(Some(out))
}

/// Everyone `user` blocks or is blocked by (the two covering indexes).
fn blocked_either_way(
    conn: &mut DbConn,
    user: UserId,
) -> StoreResult<std::collections::HashSet<UserId>> {
    let me = Id::from(user);
    let mut out: std::collections::HashSet<UserId> = blocks::table
        .filter(blocks::blocker_id.eq(me))
        .select(blocks::blocked_id)
        .load::<Id>(&mut conn.0)
        .db()?
        .into_iter()
        .map(UserId::from)
        .collect();
    out.extend(
        blocks::table
            .filter(blocks::blocked_id.eq(me))
            .select(blocks::blocker_id)
            .load::<Id>(&mut conn.0)
            .db()?
            .into_iter()
            .map(UserId::from),
    );
    Ok(out)
}
