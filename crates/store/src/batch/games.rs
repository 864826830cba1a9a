//! Game invitations in a batch: a `game_invite` message is for a direct
//! conversation only, and its invitation row (`crate::games`) is written in
//! the same transaction as the message.
//!
//! [`check`] runs before routing: a `game_invite` sent by `conversationId`
//! to a conversation the sender is a member of that is not a direct one
//! with another user is refused ([`super::Outcome::NotDirect`]); one the
//! sender is not a member of is left to routing, which answers as for any
//! conversation they cannot see. It also finds each invitation's invitee
//! (the recipient, or the other member). [`insert`] writes the rows of the
//! invitations routed, withheld ones included (their sender sees nothing
//! unusual). One query each, and none in a batch without invitations.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::ConversationKind;
use uuid::Uuid;

use super::{Outcome, WriteOp};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::games::{GAME_INVITE, GameState, NewInvite};
use crate::schema::{conversation_members, conversations};
use crate::sql_types::{Id, Ts};
use crate::streams::MessageRow;

/// Refuses the misdirected invitations among `sends` (taking them out) and
/// returns the invitee of each remaining one, by op index.
pub(crate) fn check(
    conn: &mut DbConn,
    ops: &[WriteOp],
    sends: &mut Vec<usize>,
    outcomes: &mut [Option<Outcome>],
) -> StoreResult<HashMap<usize, UserId>> {
    let mut invitees = HashMap::new();
    let mut by_conversation: Vec<(usize, UserId, Uuid)> = Vec::new();
    for &i in sends.iter() {
        let WriteOp::Send {
            message,
            recipients,
            ..
        } = &ops[i]
        else {
            continue;
        };
        if message.message_type != GAME_INVITE {
            continue;
        }
        match (message.conversation_id, recipients.as_slice()) {
            (None, [to]) if *to != message.sender_id => {
                invitees.insert(i, *to);
            }
            (Some(c), _) => by_conversation.push((i, message.sender_id, c)),
            _ => outcomes[i] = Some(Outcome::NotDirect),
        }
    }
    if !by_conversation.is_empty() {
        let ids: Vec<Id> = by_conversation.iter().map(|(_, _, c)| Id(*c)).collect();
        let rows = on_backend!(conn, |c| conversation_members::table
            .inner_join(conversations::table)
            .filter(conversation_members::conversation_id.eq_any(&ids))
            .select((
                conversation_members::conversation_id,
                conversations::kind,
                conversation_members::user_id,
            ))
            .load::<(Id, String, Id)>(c))
        .db()?;
        let mut members: HashMap<Uuid, (bool, Vec<UserId>)> = HashMap::new();
        for (c, kind, user) in rows {
            let entry = members.entry(c.0).or_insert_with(|| {
                (
                    ConversationKind::from_stored(&kind) == Some(ConversationKind::Direct),
                    Vec::new(),
                )
            });
            entry.1.push(user.into());
        }
        for (i, sender, c) in by_conversation {
            let Some((direct, list)) = members.get(&c) else {
                continue;
            };
            if !list.contains(&sender) {
                continue;
            }
            match list.iter().find(|u| **u != sender) {
                Some(other) if *direct => {
                    invitees.insert(i, *other);
                }
                _ => outcomes[i] = Some(Outcome::NotDirect),
            }
        }
    }
    sends.retain(|i| outcomes[*i].is_none());
    Ok(invitees)
}

/// Writes the invitation of every `game_invite` among the stored `routed`
/// messages, pending until `now + ttl`.
pub(crate) fn insert(
    conn: &mut DbConn,
    routed: &[(usize, MessageRow, Vec<UserId>)],
    invitees: &HashMap<usize, UserId>,
    ttl: Duration,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // The gateway bounds the TTL (a year at most), so this never saturates.
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(365));
    let expires_at = Ts::new(now.checked_add_signed(ttl).unwrap_or(now));
    let rows: Vec<NewInvite> = routed
        .iter()
        .filter(|(_, m, _)| m.message_type == GAME_INVITE)
        .filter_map(|(i, m, _)| {
            let invitee = invitees.get(i)?;
            let conversation = m.conversation_id?;
            // The gateway refuses a `game_invite` without a game id.
            let game_id = m.game_id.clone()?;
            Some(NewInvite {
                message_id: Id(m.message_id),
                conversation_id: Id(conversation),
                inviter_id: m.sender_id.into(),
                invitee_id: (*invitee).into(),
                game_id,
                state: GameState::Pending.as_str(),
                created_at: Ts::new(now),
                expires_at,
                decided_at: None,
            })
        })
        .collect();
    crate::games::insert(conn, &rows)
}
