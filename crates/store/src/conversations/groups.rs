//! A group's own row: creating it (with its owner), changing its settings
//! and join link, and deleting it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::{AddPolicy, ConversationKind, Role, Visibility};
use uuid::Uuid;

use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::conversations;
use crate::sql_types::{Id, Ts};

/// A new group, already checked.
#[derive(Debug, Clone)]
pub struct NewGroup<'a> {
    pub name: &'a str,
    pub title: Option<&'a str>,
    pub visibility: Visibility,
    pub add_policy: AddPolicy,
    pub member_cap: u32,
    pub owner: UserId,
    pub now: DateTime<Utc>,
}

/// Creates a group with `owner` as its owner; `None` when the name is taken
/// (also by a concurrent creation).
pub fn create_group(conn: &mut DbConn, group: &NewGroup<'_>) -> StoreResult<Option<Uuid>> {
    let id = Uuid::now_v7();
    let ts = Ts::new(group.now);
    let cap = i32::try_from(group.member_cap).unwrap_or(i32::MAX);
    let values = (
        conversations::id.eq(Id(id)),
        conversations::kind.eq(ConversationKind::Group.as_str()),
        conversations::name.eq(Some(group.name)),
        conversations::title.eq(group.title),
        conversations::visibility.eq(group.visibility.as_str()),
        conversations::add_policy.eq(group.add_policy.as_str()),
        conversations::member_cap.eq(cap),
        conversations::created_by.eq(Some(Id::from(group.owner))),
        conversations::created_at.eq(ts),
        conversations::updated_at.eq(ts),
    );
    let inserted = on_backend!(conn, |c| diesel::insert_into(conversations::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))
    .db()?;
    if inserted == 0 {
        return Ok(None);
    }
    super::add_member(conn, id, group.owner, Role::Owner, group.now)?;
    Ok(Some(id))
}

/// What `PATCH /v1/conversations/{id}` may change. `None` leaves a field
/// as it is; `Some(None)` clears the title. Values are already checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChange {
    pub title: Option<Option<String>>,
    pub visibility: Option<Visibility>,
    pub add_policy: Option<AddPolicy>,
    pub member_cap: Option<u32>,
}

impl GroupChange {
    pub fn is_empty(&self) -> bool {
        *self == GroupChange::default()
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = conversations)]
struct Changes<'a> {
    title: Option<Option<&'a str>>,
    visibility: Option<&'static str>,
    add_policy: Option<&'static str>,
    member_cap: Option<i32>,
    // Always set, so the changeset is never empty.
    updated_at: Ts,
}

/// Applies `change` to the conversation `id`.
pub fn update(
    conn: &mut DbConn,
    id: Uuid,
    change: &GroupChange,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let changes = Changes {
        title: change.title.as_ref().map(Option::as_deref),
        visibility: change.visibility.map(Visibility::as_str),
        add_policy: change.add_policy.map(AddPolicy::as_str),
        member_cap: change
            .member_cap
            .map(|c| i32::try_from(c).unwrap_or(i32::MAX)),
        updated_at: Ts::new(now),
    };
    diesel::update(conversations::table.filter(conversations::id.eq(Id(id))))
        .set(&changes)
        .execute(&mut conn.0)
        .db()?;
    Ok(())
}

/// Sets (or with `None` turns off) the conversation's disappearing-message
/// timer. Messages already sent keep the expiry they were sent with.
pub fn set_timer(
    conn: &mut DbConn,
    id: Uuid,
    secs: Option<u32>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::update(conversations::table.filter(conversations::id.eq(Id(id))))
        .set((
            conversations::disappear_secs.eq(secs.map(|s| i32::try_from(s).unwrap_or(i32::MAX))),
            conversations::updated_at.eq(Ts::new(now)),
        ))
        .execute(&mut conn.0)
        .db()?;
    Ok(())
}

/// Sets (or with `None` removes) the conversation's join link.
pub fn set_join_token(
    conn: &mut DbConn,
    id: Uuid,
    token: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::update(conversations::table.filter(conversations::id.eq(Id(id))))
        .set((
            conversations::join_token.eq(token.map(Id)),
            conversations::updated_at.eq(Ts::new(now)),
        ))
        .execute(&mut conn.0)
        .db()?;
    Ok(())
}

/// Deletes the conversation with everything it holds: its messages (and
/// their stream events, emptied in place), then the row, whose members and
/// invitations go with it (cascade). Nobody is left to read them.
pub fn delete(conn: &mut DbConn, id: Uuid) -> StoreResult<bool> {
    use crate::schema::messages;

    let of_it = messages::conversation_id.eq(Some(Id(id)));
    let ids: Vec<Id> = messages::table
        .filter(of_it)
        .select(messages::id)
        .load(&mut conn.0)
        .db()?;
    crate::streams::erase_message_events(conn, &ids)?;
    crate::blobs::doom_of_messages(conn, &ids, crate::now())?;
    diesel::delete(messages::table.filter(of_it))
        .execute(&mut conn.0)
        .db()?;
    let n = diesel::delete(conversations::table.filter(conversations::id.eq(Id(id))))
        .execute(&mut conn.0)
        .db()?;
    Ok(n > 0)
}
