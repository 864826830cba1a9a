//! A conversation's message history as one member may read it: only
//! messages sent since they joined, never a message withheld from them
//! (kept for its sender only), in server-id order (UUID v7, so time order),
//! a page at a time. Deleted and expired messages are simply gone.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{blocks, conversation_members, messages};
use crate::sql_types::{Id, Ts};
use crate::streams::{MessageRecord, MessageRow};

/// `query` (on `messages`) narrowed to the messages of `conversation` that
/// the member `me` (an `Id`) who joined at `joined` may see at `now` (a
/// `Ts`): sent since they joined, not withheld from them, not sent while
/// they blocked its sender, not expired. History, read markers and unread
/// counts all read through it, so they agree on what a member sees.
macro_rules! visible_to {
    ($query:expr, $conversation:expr, $me:expr, $joined:expr, $now:expr) => {
        $query
            .filter(messages::conversation_id.eq(Some(Id($conversation))))
            .filter(messages::created_at.ge(Ts::new($joined)))
            .filter(messages::withheld.eq(false).or(messages::sender_id.eq($me)))
            // Withheld from the viewer: sent while they blocked its sender
            // (group and room messages; direct ones are marked `withheld`).
            .filter(diesel::dsl::not(diesel::dsl::exists(
                blocks::table
                    .filter(blocks::blocker_id.eq($me))
                    .filter(blocks::blocked_id.eq(messages::sender_id))
                    .filter(blocks::created_at.le(messages::created_at)),
            )))
            .filter(
                messages::expires_at
                    .is_null()
                    .or(messages::expires_at.gt(Some($now))),
            )
    };
}
pub(crate) use visible_to;

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Newest first, older than the given server id (or the newest).
    Before(Option<Uuid>),
    /// Oldest first, newer than the given server id.
    After(Uuid),
}

/// One page: the messages and whether more lie beyond.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub messages: Vec<MessageRow>,
    pub more: bool,
}

/// When `user` joined `conversation`; `None` if they are not a member.
pub fn joined_at(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
) -> StoreResult<Option<DateTime<Utc>>> {
    let at = conversation_members::table
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .filter(conversation_members::user_id.eq(Id::from(user)))
        .select(conversation_members::joined_at)
        .first::<Ts>(&mut conn.0)
        .optional()
        .db()?;
    Ok(at.map(Ts::get))
}

/// A page of `conversation`'s history for `user`; `None` if they are not a
/// member (the caller answers as for a conversation that does not exist).
pub fn page(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    page: Page,
    limit: u32,
) -> StoreResult<Option<HistoryPage>> {
    let Some(joined) = joined_at(conn, conversation, user)? else {
        return Ok(None);
    };
    let me = Id::from(user);
    // Expired messages are gone at once, before the sweeper deletes them.
    let now = Ts::new(crate::now());
    let mut query = visible_to!(messages::table, conversation, me, joined, now)
        .select(messages::all_columns)
        .limit(i64::from(limit) + 1)
        .into_boxed();
    query = match page {
        Page::Before(None) => query.order(messages::id.desc()),
        Page::Before(Some(id)) => query
            .filter(messages::id.lt(Id(id)))
            .order(messages::id.desc()),
        Page::After(id) => query
            .filter(messages::id.gt(Id(id)))
            .order(messages::id.asc()),
    };
    let mut rows: Vec<MessageRow> = query
        .load::<MessageRecord>(&mut conn.0)
        .db()?
        .into_iter()
        .map(MessageRow::from)
        .collect();
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    crate::games::attach_game_ids(conn, rows.iter_mut())?;
    Ok(Some(HistoryPage {
        messages: rows,
        more,
    }))
}

/// What became of a retraction.
#[derive(Debug, Clone, PartialEq)]
pub enum Retraction {
    /// No such message in the conversation for this user (not a member, a
    /// message withheld from them, or none at all).
    NotFound,
    /// The message is someone else's.
    NotSender,
    /// Older than the window.
    TooLate,
    /// Deleted; the `deleted` events to publish.
    Done(Vec<crate::streams::StreamEvent>),
}

/// Retracts `message_id` (the sender's id) from `conversation` for `user`,
/// its sender, if sent within `window` of `now`: the message and its stream
/// events are deleted and a `deleted` event with `payload` goes to every
/// member's devices (to the sender's only, for a message withheld from
/// its recipient). Call inside a transaction.
pub fn retract(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    message_id: Uuid,
    window: chrono::Duration,
    now: DateTime<Utc>,
    payload: String,
) -> StoreResult<Retraction> {
    use crate::batch::{Note, append};
    use crate::streams::EventKind;

    if joined_at(conn, conversation, user)?.is_none() {
        return Ok(Retraction::NotFound);
    }
    let found = messages::table
        .filter(messages::conversation_id.eq(Some(Id(conversation))))
        .filter(messages::message_id.eq(Id(message_id)))
        .select(messages::all_columns)
        .first::<MessageRecord>(&mut conn.0)
        .optional()
        .db()?
        .map(MessageRow::from);
    let Some(m) = found else {
        return Ok(Retraction::NotFound);
    };
    if m.sender_id != user {
        return Ok(if m.withheld {
            Retraction::NotFound
        } else {
            Retraction::NotSender
        });
    }
    if m.created_at + window < now {
        return Ok(Retraction::TooLate);
    }
    let users: Vec<UserId> = if m.withheld {
        vec![user]
    } else {
        let members: Vec<UserId> = conversation_members::table
            .filter(conversation_members::conversation_id.eq(Id(conversation)))
            .select(conversation_members::user_id)
            .load::<Id>(&mut conn.0)
            .db()?
            .into_iter()
            .map(UserId::from)
            .collect();
        // Members who block the sender never had the message: they are not
        // told of its retraction either.
        let blockers = crate::social::blocks_between(conn, &members, &[user])?;
        members
            .into_iter()
            .filter(|u| !blockers.contains(&(*u, user)))
            .collect()
    };
    crate::streams::erase_message_events(conn, &[Id(m.id)])?;
    crate::blobs::doom_of_messages(conn, &[Id(m.id)], now)?;
    diesel::delete(messages::table.filter(messages::id.eq(Id(m.id))))
        .execute(&mut conn.0)
        .db()?;
    let events = append(
        conn,
        &[Note {
            users,
            kind: EventKind::Deleted,
            payload,
        }],
        now,
    )?;
    Ok(Retraction::Done(events))
}
