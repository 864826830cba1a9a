//! Members of a conversation: one membership, adding and removing, roles,
//! counts, and the keyset-paged member list in `(joined_at, user id)`
//! order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::Role;
use uuid::Uuid;

use super::{Page, Position, page};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{conversation_members, users};
use crate::sql_types::{Id, Ts};

/// A user's membership of one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// One entry of a member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEntry {
    pub user_id: UserId,
    pub username: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// `user`'s membership of `conversation`, if any.
pub fn membership(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
) -> StoreResult<Option<Membership>> {
    let found = conversation_members::table
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .filter(conversation_members::user_id.eq(Id::from(user)))
        .select((conversation_members::role, conversation_members::joined_at))
        .first::<(String, Ts)>(&mut conn.0)
        .optional()
        .db()?;
    Ok(found.map(|(role, at)| Membership {
        role: Role::from_stored(&role),
        joined_at: at.get(),
    }))
}

/// Adds `user` with `role`; `false` if already a member. `NotFound` when
/// the user or the conversation does not exist.
pub fn add_member(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let values = (
        conversation_members::conversation_id.eq(Id(conversation)),
        conversation_members::user_id.eq(Id::from(user)),
        conversation_members::role.eq(role.as_str()),
        conversation_members::joined_at.eq(Ts::new(now)),
    );
    let n = conn.guarded(|c| {
        on_backend!(c, |c| diesel::insert_into(conversation_members::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))
        .db()
    })?;
    Ok(n > 0)
}

/// Removes `user`; `false` if not a member.
pub fn remove_member(conn: &mut DbConn, conversation: Uuid, user: UserId) -> StoreResult<bool> {
    let n = diesel::delete(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(Id(conversation)))
            .filter(conversation_members::user_id.eq(Id::from(user))),
    )
    .execute(&mut conn.0)
    .db()?;
    Ok(n > 0)
}

/// Gives member `user` the role `role`; `false` if not a member.
pub fn set_role(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    role: Role,
) -> StoreResult<bool> {
    let n = diesel::update(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(Id(conversation)))
            .filter(conversation_members::user_id.eq(Id::from(user))),
    )
    .set(conversation_members::role.eq(role.as_str()))
    .execute(&mut conn.0)
    .db()?;
    Ok(n > 0)
}

/// Every member of `conversation` (for stream events).
pub fn member_ids(conn: &mut DbConn, conversation: Uuid) -> StoreResult<Vec<UserId>> {
    let ids = conversation_members::table
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .select(conversation_members::user_id)
        .load::<Id>(&mut conn.0)
        .db()?;
    Ok(ids.into_iter().map(UserId::from).collect())
}

/// How many members `conversation` has.
pub fn member_count(conn: &mut DbConn, conversation: Uuid) -> StoreResult<u32> {
    let n = conversation_members::table
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .count()
        .get_result::<i64>(&mut conn.0)
        .db()?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Member counts of several conversations, in one statement.
pub fn member_counts(conn: &mut DbConn, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, u32>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Id> = ids.iter().map(|i| Id(*i)).collect();
    let rows = on_backend!(conn, |c| conversation_members::table
        .filter(conversation_members::conversation_id.eq_any(&ids))
        .group_by(conversation_members::conversation_id)
        .select((
            conversation_members::conversation_id,
            diesel::dsl::count_star(),
        ))
        .load::<(Id, i64)>(c))
    .db()?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id.0, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}

/// The members of `conversation` in the order they joined (ties by user
/// id), at most `limit` after `after`.
pub fn list_members(
    conn: &mut DbConn,
    conversation: Uuid,
    after: Option<Position>,
    limit: u32,
) -> StoreResult<Page<MemberEntry>> {
    let mut query = conversation_members::table
        .inner_join(users::table.on(users::id.eq(conversation_members::user_id)))
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .select((
            conversation_members::user_id,
            users::username,
            conversation_members::role,
            conversation_members::joined_at,
        ))
        .order((
            conversation_members::joined_at.asc(),
            conversation_members::user_id.asc(),
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
                    .and(conversation_members::user_id.gt(id))),
        );
    }
    let rows = query
        .load::<(Id, String, String, Ts)>(&mut conn.0)
        .db()?
        .into_iter()
        .map(|(id, username, role, at)| MemberEntry {
            user_id: id.into(),
            username,
            role: Role::from_stored(&role),
            joined_at: at.get(),
        })
        .collect();
    Ok(page(rows, limit, |m: &MemberEntry| Position {
        at: m.joined_at,
        id: m.user_id.0,
    }))
}

/// The groups `user` is a member of, with their role, in id order (the
/// order to lock them in).
pub fn groups_of(conn: &mut DbConn, user: UserId) -> StoreResult<Vec<(Uuid, Role)>> {
    let rows = conversation_members::table
        .inner_join(crate::schema::conversations::table)
        .filter(conversation_members::user_id.eq(Id::from(user)))
        .filter(
            crate::schema::conversations::kind
                .eq(passerelle_domain::ConversationKind::Group.as_str()),
        )
        .order(conversation_members::conversation_id.asc())
        .select((
            conversation_members::conversation_id,
            conversation_members::role,
        ))
        .load::<(Id, String)>(&mut conn.0)
        .db()?;
    Ok(rows
        .into_iter()
        .map(|(id, role)| (id.0, Role::from_stored(&role)))
        .collect())
}

/// Who takes over a group whose owner goes: its longest-standing admin,
/// else its longest-standing member (ties by user id); never `leaving`.
pub fn successor(
    conn: &mut DbConn,
    conversation: Uuid,
    leaving: UserId,
) -> StoreResult<Option<UserId>> {
    for role in [Role::Admin, Role::Member] {
        let found = conversation_members::table
            .filter(conversation_members::conversation_id.eq(Id(conversation)))
            .filter(conversation_members::user_id.ne(Id::from(leaving)))
            .filter(conversation_members::role.eq(role.as_str()))
            .order((
                conversation_members::joined_at.asc(),
                conversation_members::user_id.asc(),
            ))
            .select(conversation_members::user_id)
            .first::<Id>(&mut conn.0)
            .optional()
            .db()?;
        if let Some(user) = found {
            return Ok(Some(user.into()));
        }
    }
    Ok(None)
}
