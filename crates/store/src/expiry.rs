//! Disappearing messages: deleting the messages whose expiry has passed,
//! with their stream events, in bounded passes that read the partial index
//! `messages_expires_at_idx` in expiry order, and telling members' devices
//! which messages are gone.
//!
//! A deletion pass ([`delete_due`]) is one transaction: pick up to `limit`
//! expired messages (on Postgres `FOR UPDATE SKIP LOCKED`, so nodes
//! sweeping at once share the work instead of repeating it), delete their
//! stream events (by the `device_events.message_id` index) and the rows.
//! [`announce`] then appends one `expired` event per conversation for its
//! members' devices, naming the messages, for as many passes' worth of
//! deletions as the caller gathered: under a backlog the announcement costs
//! one event per member device per conversation per batch of passes, not
//! per pass. A message withheld from its recipient (a block) is announced
//! to its sender's devices only.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::batch::{Note, append};
use crate::conn::{AnyConnection, DbConn};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{conversation_members, messages};
use crate::sql_types::{Id, Ts};
use crate::streams::{EventKind, StreamEvent};

/// A message deleted because it expired: what announcing it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    pub conversation_id: Uuid,
    /// The sender's id of the message.
    pub message_id: Uuid,
    pub sender_id: UserId,
    /// Withheld from its recipient by a block: announced to its sender only.
    pub withheld: bool,
}

/// What one deletion pass did.
#[derive(Debug, Default)]
pub struct Swept {
    /// The messages deleted (those without a conversation are left out).
    pub expired: Vec<Expired>,
    /// How many messages were deleted.
    pub messages: usize,
    /// Stream events deleted with them.
    pub events: usize,
}

type Due = (Id, Id, Option<Id>, Id, bool);

/// One pass: deletes up to `limit` messages that expired at or before
/// `now`, with their stream events. Call inside a transaction; call again
/// while `messages == limit`; announce what it returns with [`announce`].
pub fn delete_due(conn: &mut DbConn, now: DateTime<Utc>, limit: u32) -> StoreResult<Swept> {
    let due = messages::table
        .filter(messages::expires_at.is_not_null())
        .filter(messages::expires_at.le(Some(Ts::new(now))))
        .order(messages::expires_at.asc())
        .limit(i64::from(limit))
        .select((
            messages::id,
            messages::message_id,
            messages::conversation_id,
            messages::sender_id,
            messages::withheld,
        ));
    let found: Vec<Due> = match &mut conn.0 {
        AnyConnection::Postgresql(c) => due.for_update().skip_locked().load(c),
        AnyConnection::Sqlite(c) => due.load(c),
    }
    .db()?;
    if found.is_empty() {
        return Ok(Swept::default());
    }
    let ids: Vec<Id> = found.iter().map(|m| m.0).collect();
    let events = crate::streams::erase_message_events(conn, &ids)?;
    crate::blobs::doom_of_messages(conn, &ids, now)?;
    let messages = diesel::delete(messages::table.filter(messages::id.eq_any(&ids)))
        .execute(&mut conn.0)
        .db()?;
    let expired = found
        .into_iter()
        .filter_map(|(_, message_id, conversation, sender, withheld)| {
            Some(Expired {
                conversation_id: conversation?.0,
                message_id: message_id.0,
                sender_id: sender.into(),
                withheld,
            })
        })
        .collect();
    Ok(Swept {
        expired,
        messages,
        events,
    })
}

/// Appends the `expired` events for `expired`: one per conversation for
/// its members' devices, naming the messages they could see, and one per
/// conversation and sender for messages withheld from everyone else.
/// `payload(conversation, message_ids)` builds an event's JSON. Call inside
/// a transaction; publish the result after the commit.
pub fn announce(
    conn: &mut DbConn,
    expired: &[Expired],
    now: DateTime<Utc>,
    payload: &dyn Fn(Uuid, &[Uuid]) -> String,
) -> StoreResult<Vec<StreamEvent>> {
    let mut visible: BTreeMap<Uuid, Vec<(Uuid, UserId)>> = BTreeMap::new();
    let mut withheld: BTreeMap<(Uuid, UserId), Vec<Uuid>> = BTreeMap::new();
    for e in expired {
        if e.withheld {
            withheld
                .entry((e.conversation_id, e.sender_id))
                .or_default()
                .push(e.message_id);
        } else {
            visible
                .entry(e.conversation_id)
                .or_default()
                .push((e.message_id, e.sender_id));
        }
    }
    let members = members_of(conn, visible.keys().copied().collect())?;
    // A member who blocks a sender never had that sender's messages (the
    // send path left them out): they are not told of their expiry either.
    let all_members: Vec<UserId> = members.values().flatten().copied().collect();
    let senders: Vec<UserId> = visible.values().flatten().map(|(_, s)| *s).collect();
    let blocks = crate::social::blocks_between(conn, &all_members, &senders)?;
    let mut notes = Vec::with_capacity(visible.len() + withheld.len());
    for (conversation, messages) in &visible {
        // Members grouped by the messages they may hear of.
        let mut audiences: BTreeMap<Vec<Uuid>, Vec<UserId>> = BTreeMap::new();
        for member in members.get(conversation).into_iter().flatten() {
            let ids: Vec<Uuid> = messages
                .iter()
                .filter(|(_, sender)| !blocks.contains(&(*member, *sender)))
                .map(|(id, _)| *id)
                .collect();
            if !ids.is_empty() {
                audiences.entry(ids).or_default().push(*member);
            }
        }
        for (message_ids, users) in audiences {
            notes.push(Note {
                users,
                kind: EventKind::Expired,
                payload: payload(*conversation, &message_ids),
            });
        }
    }
    for ((conversation, sender), message_ids) in &withheld {
        notes.push(Note {
            users: vec![*sender],
            kind: EventKind::Expired,
            payload: payload(*conversation, message_ids),
        });
    }
    append(conn, &notes, now)
}

fn members_of(conn: &mut DbConn, ids: Vec<Uuid>) -> StoreResult<HashMap<Uuid, Vec<UserId>>> {
    let mut out: HashMap<Uuid, Vec<UserId>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<Id> = ids.into_iter().map(Id).collect();
    let rows = conversation_members::table
        .filter(conversation_members::conversation_id.eq_any(&ids))
        .select((
            conversation_members::conversation_id,
            conversation_members::user_id,
        ))
        .load::<(Id, Id)>(&mut conn.0)
        .db()?;
    for (conversation, user) in rows {
        out.entry(conversation.0).or_default().push(user.into());
    }
    Ok(out)
}
