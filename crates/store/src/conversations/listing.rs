//! A user's own conversations, keyset-paged in `(joined_at, conversation
//! id)` order (the `conversation_members_user_id_idx` index finds them),
//! each with the user's membership, the member count and, for direct
//! conversations, the other member.

use std::collections::HashMap;

use diesel::prelude::*;
use passerelle_domain::{ConversationKind, Role};
use uuid::Uuid;

use super::{
    COLUMNS, ConversationRow, Membership, Page, Position, Record, member_counts, page, row,
};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{conversation_members, conversations};
use crate::sql_types::{Id, Ts};

/// A conversation as one of its members lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub conversation: ConversationRow,
    pub membership: Membership,
    pub member_count: u32,
    /// Direct conversations: the other member (`user` itself for a
    /// conversation with oneself).
    pub peer: Option<UserId>,
}

/// `user`'s conversations in the order they joined them (ties by id), at
/// most `limit` after `after`.
pub fn list_for_user(
    conn: &mut DbConn,
    user: UserId,
    after: Option<Position>,
    limit: u32,
) -> StoreResult<Page<Summary>> {
    let mut query = conversation_members::table
        .inner_join(conversations::table)
        .filter(conversation_members::user_id.eq(Id::from(user)))
        .select((
            COLUMNS,
            conversation_members::role,
            conversation_members::joined_at,
        ))
        .order((
            conversation_members::joined_at.asc(),
            conversation_members::conversation_id.asc(),
        ))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(p) = after {
        let (at, id) = (Ts::new(p.at), Id(p.id));
        query = query.filter(
            conversation_members::joined_at
                .gt(at)
                .or(conversation_members::joined_at
                    .eq(at)
                    .and(conversation_members::conversation_id.gt(id))),
        );
    }
    let rows = query.load::<(Record, String, Ts)>(&mut conn.0).db()?;
    let mut items = Vec::with_capacity(rows.len());
    for (r, role, at) in rows {
        items.push(Summary {
            conversation: row(r)?,
            membership: Membership {
                role: Role::from_stored(&role),
                joined_at: at.get(),
            },
            member_count: 0,
            peer: None,
        });
    }
    let mut result = page(items, limit, |s: &Summary| Position {
        at: s.membership.joined_at,
        id: s.conversation.id,
    });
    let ids: Vec<Uuid> = result.items.iter().map(|s| s.conversation.id).collect();
    let counts = member_counts(conn, &ids)?;
    let direct: Vec<Uuid> = result
        .items
        .iter()
        .filter(|s| s.conversation.kind == ConversationKind::Direct)
        .map(|s| s.conversation.id)
        .collect();
    let peers = peers_of(conn, &direct, user)?;
    for s in &mut result.items {
        s.member_count = counts.get(&s.conversation.id).copied().unwrap_or(0);
        if s.conversation.kind == ConversationKind::Direct {
            s.peer = Some(peers.get(&s.conversation.id).copied().unwrap_or(user));
        }
    }
    Ok(result)
}

/// The member other than `me` of each direct conversation in `ids` (absent
/// for a conversation with oneself), in one statement.
pub(crate) fn peers_of(
    conn: &mut DbConn,
    ids: &[Uuid],
    me: UserId,
) -> StoreResult<HashMap<Uuid, UserId>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Id> = ids.iter().map(|i| Id(*i)).collect();
    let rows = on_backend!(conn, |c| conversation_members::table
        .filter(conversation_members::conversation_id.eq_any(&ids))
        .filter(conversation_members::user_id.ne(Id::from(me)))
        .select((
            conversation_members::conversation_id,
            conversation_members::user_id,
        ))
        .load::<(Id, Id)>(c))
    .db()?;
    Ok(rows.into_iter().map(|(c, u)| (c.0, u.into())).collect())
}

/// The other member of the direct conversation `id` (`me` for a
/// conversation with oneself).
pub fn peer(conn: &mut DbConn, id: Uuid, me: UserId) -> StoreResult<UserId> {
    Ok(peers_of(conn, &[id], me)?.get(&id).copied().unwrap_or(me))
}
