//! Where each new send of a batch goes, decided inside the batch's
//! transaction (so a membership change or a block committed before the
//! batch is always seen): its conversation, the users it is delivered to,
//! and whether it is withheld, or why it is refused.
//!
//! - A direct send (`recipients = [user]`, no conversation) goes to the
//!   pair's direct conversation, created here on the first message (one per
//!   pair: the unique `direct_key` settles concurrent creations on any
//!   node). If the recipient blocks the sender, the message is stored for
//!   the sender's own devices and history only (`withheld`): the sender gets
//!   an ordinary `sent`, so the block is not revealed.
//! - A conversation send goes to every member but the sender (the sender's
//!   other devices get their sync copy anyway), minus the members who block
//!   the sender. A sender who is not a member is told the conversation does
//!   not exist, whether it does or not. A direct conversation addressed by
//!   id is a direct message all the same: its `recipient_id` is the other
//!   member (delivery receipts are for direct messages only) and a block
//!   withholds it.
//! - The conversation's disappearing-message timer gives the message its
//!   `expires_at`.
//! - `replyTo` must name a message of the same conversation that the sender
//!   can see (stored, or earlier in the same batch).
//! - A message request (`super::requests`) may withhold a send from its
//!   addressee, or be accepted by it; the events this causes are returned
//!   with the routes.
//!
//! Each step is one query for the whole batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::conversations::{direct_key, insert_directs};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{blocks, conversation_members, conversations, messages};
use crate::sql_types::{Id, Ts};
use passerelle_domain::ConversationKind;

use super::WriteOp;
use super::requests::{Notice, Requests};

/// Where one send goes.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    Deliver {
        conversation: Uuid,
        /// Users besides the sender whose devices get the message.
        recipients: Vec<UserId>,
        /// Users the message is addressed to but withheld from (they block
        /// the sender, or declined its request): a per-device send is not
        /// checked against their devices, and its entries for them are
        /// dropped, so that the sender cannot tell.
        hidden: Vec<UserId>,
        withheld: bool,
        /// The conversation's disappearing-message timer, if set.
        disappear_secs: Option<i32>,
        /// A direct conversation's other member (the sender, for a
        /// conversation with oneself): the message's `recipient_id`.
        peer: Option<UserId>,
    },
    /// The conversation does not exist for the sender.
    NoConversation,
    /// `replyTo` names no message of this conversation the sender can see.
    BadReply,
}

/// The events each send (by index) causes besides its message.
pub(crate) type Caused = HashMap<usize, Vec<Notice>>;

/// Routes the sends at `sends` (indexes into `ops`, all `WriteOp::Send`),
/// with the events each causes.
pub(crate) fn resolve(
    conn: &mut DbConn,
    ops: &[WriteOp],
    sends: &[usize],
    now: DateTime<Utc>,
) -> StoreResult<(HashMap<usize, Route>, Caused)> {
    let mut out = HashMap::new();
    let mut notices = HashMap::new();
    if sends.is_empty() {
        return Ok((out, notices));
    }
    // Direct sends: find or create each pair's conversation.
    let mut direct_pairs: HashMap<String, (UserId, UserId)> = HashMap::new();
    let mut conversation_ids: HashSet<Uuid> = HashSet::new();
    for &i in sends {
        if let WriteOp::Send {
            message,
            recipients,
            ..
        } = &ops[i]
        {
            match (message.conversation_id, recipients.as_slice()) {
                (None, [to]) => {
                    direct_pairs
                        .insert(direct_key(message.sender_id, *to), (message.sender_id, *to));
                }
                (Some(c), _) => {
                    conversation_ids.insert(c);
                }
                _ => {}
            }
        }
    }
    let (directs, created) = direct_conversations(conn, &direct_pairs, now)?;
    let members = members_of(conn, &conversation_ids)?;
    let settings = settings_of(conn, &conversation_ids)?;
    conversation_ids.extend(directs.values().map(|d| d.0));
    let created = created
        .iter()
        .filter_map(|k| directs.get(k).map(|d| d.0))
        .collect();
    let mut requests = Requests::load(conn, &conversation_ids, created)?;

    // Blocks against the senders.
    let senders: HashSet<UserId> = sends
        .iter()
        .filter_map(|&i| match &ops[i] {
            WriteOp::Send { message, .. } => Some(message.sender_id),
            WriteOp::Ack { .. } => None,
        })
        .collect();
    let blockers = blockers_of(conn, &senders)?;

    // Replied-to messages.
    let reply_ids: Vec<Id> = sends
        .iter()
        .filter_map(|&i| match &ops[i] {
            WriteOp::Send { message, .. } => message.reply_to.map(Id),
            WriteOp::Ack { .. } => None,
        })
        .collect();
    let replied = replied_to(conn, &reply_ids)?;
    // (message_id) -> (conversation, sender, withheld) of this batch's sends,
    // filled as they are routed, for replies within the batch.
    let mut in_batch: HashMap<Uuid, (Uuid, UserId, bool)> = HashMap::new();

    for &i in sends {
        let WriteOp::Send {
            message,
            recipients,
            ..
        } = &ops[i]
        else {
            continue;
        };
        let sender = message.sender_id;
        let route = match (message.conversation_id, recipients.as_slice()) {
            (None, [to]) => match directs.get(&direct_key(sender, *to)) {
                Some(&(conversation, disappear_secs)) => {
                    let blocked = blockers.contains(&(*to, sender)) && *to != sender;
                    Route::Deliver {
                        conversation,
                        recipients: if blocked { Vec::new() } else { vec![*to] },
                        hidden: if blocked { vec![*to] } else { Vec::new() },
                        withheld: blocked,
                        disappear_secs,
                        peer: Some(*to),
                    }
                }
                None => Route::NoConversation,
            },
            (Some(c), _) => match members.get(&c) {
                Some(list) if list.contains(&sender) => {
                    let (kind, disappear_secs) = settings.get(&c).copied().unwrap_or_default();
                    let peer = (kind == Some(ConversationKind::Direct)).then(|| {
                        list.iter()
                            .copied()
                            .find(|u| *u != sender)
                            .unwrap_or(sender)
                    });
                    // A direct conversation addressed by id: the same rule
                    // as by `recipientId`, a blocked sender's message is
                    // withheld (kept for the sender) rather than refused.
                    let withheld =
                        peer.is_some_and(|p| p != sender && blockers.contains(&(p, sender)));
                    Route::Deliver {
                        conversation: c,
                        recipients: list
                            .iter()
                            .filter(|u| **u != sender && !blockers.contains(&(**u, sender)))
                            .copied()
                            .collect(),
                        hidden: list
                            .iter()
                            .filter(|u| **u != sender && blockers.contains(&(**u, sender)))
                            .copied()
                            .collect(),
                        withheld,
                        disappear_secs,
                        peer,
                    }
                }
                _ => Route::NoConversation,
            },
            _ => Route::NoConversation,
        };
        let mut route = match (route, message.reply_to) {
            (
                Route::Deliver {
                    conversation,
                    recipients,
                    hidden,
                    withheld,
                    disappear_secs,
                    peer,
                },
                Some(reply),
            ) => {
                let target = replied
                    .get(&reply)
                    .or_else(|| in_batch.get(&reply))
                    .copied();
                match target {
                    Some((c, author, withheld_from_them))
                        if c == conversation && (!withheld_from_them || author == sender) =>
                    {
                        Route::Deliver {
                            conversation,
                            recipients,
                            hidden,
                            withheld,
                            disappear_secs,
                            peer,
                        }
                    }
                    _ => Route::BadReply,
                }
            }
            (route, _) => route,
        };
        if let Route::Deliver {
            conversation,
            recipients,
            hidden,
            withheld,
            ..
        } = &mut route
        {
            let caused = requests.route(
                *conversation,
                sender,
                recipients,
                hidden,
                withheld,
                |a, b| blockers.contains(&(a, b)),
            );
            if !caused.is_empty() {
                notices.insert(i, caused);
            }
            in_batch.insert(message.message_id, (*conversation, sender, *withheld));
        }
        out.insert(i, route);
    }
    requests.finish(conn, &mut notices)?;
    Ok((out, notices))
}

/// Each pair's direct conversation and its timer, by `direct_key`.
type Directs = HashMap<String, (Uuid, Option<i32>)>;

/// The direct conversation of each pair and its timer, created (with both
/// members, no timer) where missing, and the keys of those created here.
/// Concurrent creation elsewhere is settled by the unique key: the insert
/// does nothing and the second read finds the other one's row.
fn direct_conversations(
    conn: &mut DbConn,
    pairs: &HashMap<String, (UserId, UserId)>,
    now: DateTime<Utc>,
) -> StoreResult<(Directs, HashSet<String>)> {
    if pairs.is_empty() {
        return Ok((HashMap::new(), HashSet::new()));
    }
    let keys: Vec<String> = pairs.keys().cloned().collect();
    let mut found = read_direct(conn, &keys)?;
    let missing: Vec<(&String, &(UserId, UserId))> = pairs
        .iter()
        .filter(|(k, _)| !found.contains_key(*k))
        .collect();
    if missing.is_empty() {
        return Ok((found, HashSet::new()));
    }
    let new: Vec<(&str, UserId, UserId)> = missing
        .iter()
        .map(|(key, (creator, other))| (key.as_str(), *creator, *other))
        .collect();
    let created = insert_directs(conn, &new, Ts::new(now))?;
    let keys: Vec<String> = missing.iter().map(|(k, _)| (*k).clone()).collect();
    found.extend(read_direct(conn, &keys)?);
    Ok((found, created))
}

fn read_direct(conn: &mut DbConn, keys: &[String]) -> StoreResult<Directs> {
    let rows = on_backend!(conn, |c| conversations::table
        .filter(conversations::direct_key.eq_any(keys))
        .select((
            conversations::direct_key,
            conversations::id,
            conversations::disappear_secs,
        ))
        .load::<(Option<String>, Id, Option<i32>)>(c))
    .db()?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, id, timer)| k.map(|k| (k, (id.0, timer))))
        .collect())
}

/// A conversation's kind (`None`: one this build does not know) and its
/// disappearing-message timer.
type Settings = (Option<ConversationKind>, Option<i32>);

/// The kind and the disappearing-message timer of each conversation.
fn settings_of(conn: &mut DbConn, ids: &HashSet<Uuid>) -> StoreResult<HashMap<Uuid, Settings>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Id> = ids.iter().map(|i| Id(*i)).collect();
    let rows = on_backend!(conn, |c| conversations::table
        .filter(conversations::id.eq_any(&ids))
        .select((
            conversations::id,
            conversations::kind,
            conversations::disappear_secs,
        ))
        .load::<(Id, String, Option<i32>)>(c))
    .db()?;
    Ok(rows
        .into_iter()
        .map(|(id, k, t)| (id.0, (ConversationKind::from_stored(&k), t)))
        .collect())
}

/// The members of each conversation.
fn members_of(conn: &mut DbConn, ids: &HashSet<Uuid>) -> StoreResult<HashMap<Uuid, Vec<UserId>>> {
    let mut out: HashMap<Uuid, Vec<UserId>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<Id> = ids.iter().map(|i| Id(*i)).collect();
    let rows = on_backend!(conn, |c| conversation_members::table
        .filter(conversation_members::conversation_id.eq_any(&ids))
        .select((
            conversation_members::conversation_id,
            conversation_members::user_id,
        ))
        .load::<(Id, Id)>(c))
    .db()?;
    for (conversation, user) in rows {
        out.entry(conversation.0).or_default().push(user.into());
    }
    Ok(out)
}

/// `(blocker, blocked)` for every block of one of `senders`.
fn blockers_of(
    conn: &mut DbConn,
    senders: &HashSet<UserId>,
) -> StoreResult<HashSet<(UserId, UserId)>> {
    if senders.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<Id> = senders.iter().map(|u| Id::from(*u)).collect();
    let rows = on_backend!(conn, |c| blocks::table
        .filter(blocks::blocked_id.eq_any(&ids))
        .select((blocks::blocker_id, blocks::blocked_id))
        .load::<(Id, Id)>(c))
    .db()?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| (a.into(), b.into()))
        .collect())
}

/// `message_id` -> (conversation, sender, withheld) of stored messages.
fn replied_to(conn: &mut DbConn, ids: &[Id]) -> StoreResult<HashMap<Uuid, (Uuid, UserId, bool)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = on_backend!(conn, |c| messages::table
        .filter(messages::message_id.eq_any(ids))
        .select((
            messages::message_id,
            messages::conversation_id,
            messages::sender_id,
            messages::withheld,
        ))
        .load::<(Id, Option<Id>, Id, bool)>(c))
    .db()?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, c, s, w)| c.map(|c| (m.0, (c.0, s.into(), w))))
        .collect())
}
