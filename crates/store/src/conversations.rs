//! Conversations: the rows of `conversations`, `conversation_members` and
//! `conversation_invites`. Direct conversations (one per pair, found by
//! `direct_key`, shared with the send path in `batch::route`), groups
//! (unique name, settings, join link), members with roles, and pending
//! invitations.
//!
//! Like [`crate::social`], this module reads and writes facts; which member
//! may change what is decided by `passerelle_domain`'s rules, applied by the
//! gateway inside the same transaction as the change and its stream events
//! ([`crate::batch::append`]). [`lock`] takes the conversation's row lock
//! (Postgres; SQLite has one writer at a time anyway) so that concurrent
//! changes of one conversation (joins against the cap, the last member
//! leaving, ownership moves) apply one after the other.
//!
//! Groups' own rows (creation, settings, join link, deletion) are in
//! `groups`, members in `members`, invitations in `invites`, a user's list
//! in `listing`; all are re-exported here.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::{AddPolicy, ConversationKind, Visibility};
use uuid::Uuid;

use crate::UserId;
use crate::conn::{AnyConnection, DbConn, on_backend};
use crate::error::{DbResultExt, StoreError, StoreResult};
use crate::schema::{conversation_members, conversations};
use crate::sql_types::{Id, Ts};

mod groups;
mod invites;
mod listing;
mod members;
mod requests;

pub use groups::{GroupChange, NewGroup, create_group, delete, set_join_token, set_timer, update};
pub use invites::{InviteRow, PendingInvite, find_invite, invite, list_invites, take_invite};
pub use listing::{Summary, list_for_user, peer};
pub use members::{
    MemberEntry, Membership, add_member, groups_of, list_members, member_count, member_counts,
    member_ids, membership, remove_member, set_role, successor,
};
pub use requests::{
    RequestEntry, RequestRow, RequestState, accept as accept_request, decline as decline_request,
    find as find_request, list_requests, states_for as request_states,
};
pub(crate) use requests::{of_conversations as requests_of, remove as remove_requests};

/// The most members a direct conversation has.
pub const DIRECT_CAP: u32 = 2;

/// One conversation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    pub id: Uuid,
    pub kind: ConversationKind,
    /// Direct conversations: `"<lower user id>:<higher user id>"`.
    pub direct_key: Option<String>,
    /// Groups: the unique handle.
    pub name: Option<String>,
    pub title: Option<String>,
    pub visibility: Visibility,
    pub add_policy: AddPolicy,
    pub member_cap: u32,
    pub join_token: Option<Uuid>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Messages sent while it is set expire this many seconds later.
    pub disappear_secs: Option<u32>,
}

type Columns = (
    conversations::id,
    conversations::kind,
    conversations::direct_key,
    conversations::name,
    conversations::title,
    conversations::visibility,
    conversations::add_policy,
    conversations::member_cap,
    conversations::join_token,
    conversations::created_by,
    conversations::created_at,
    conversations::updated_at,
    conversations::disappear_secs,
);

pub(crate) const COLUMNS: Columns = (
    conversations::id,
    conversations::kind,
    conversations::direct_key,
    conversations::name,
    conversations::title,
    conversations::visibility,
    conversations::add_policy,
    conversations::member_cap,
    conversations::join_token,
    conversations::created_by,
    conversations::created_at,
    conversations::updated_at,
    conversations::disappear_secs,
);

pub(crate) type Record = (
    Id,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    i32,
    Option<Id>,
    Option<Id>,
    Ts,
    Ts,
    Option<i32>,
);

/// A stored row to a [`ConversationRow`]; a kind this build does not know
/// is an internal error (the CHECK constraint lists the known ones).
pub(crate) fn row(r: Record) -> StoreResult<ConversationRow> {
    let kind = ConversationKind::from_stored(&r.1)
        .ok_or_else(|| StoreError::Internal(format!("unknown conversation kind {:?}", r.1)))?;
    Ok(ConversationRow {
        id: r.0.0,
        kind,
        direct_key: r.2,
        name: r.3,
        title: r.4,
        visibility: Visibility::from_stored(&r.5),
        add_policy: AddPolicy::from_stored(&r.6),
        member_cap: u32::try_from(r.7).unwrap_or(0),
        join_token: r.8.map(|t| t.0),
        created_by: r.9.map(UserId::from),
        created_at: r.10.get(),
        updated_at: r.11.get(),
        disappear_secs: r.12.and_then(|s| u32::try_from(s).ok()),
    })
}

/// A position in a keyset-paged list: the entry's time and id (a
/// conversation's, or a member's user id). Entries strictly after it come
/// next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// One page of a list, and where the next one starts (`None`: the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Position>,
}

/// Cuts a page read with one extra row to `limit`, and finds its next
/// position.
pub(crate) fn page<T>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> Position) -> Page<T> {
    let limit = limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(key) } else { None };
    Page { items: rows, next }
}

/// The conversation `id`, if it exists.
pub fn find(conn: &mut DbConn, id: Uuid) -> StoreResult<Option<ConversationRow>> {
    conversations::table
        .filter(conversations::id.eq(Id(id)))
        .select(COLUMNS)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()?
        .map(row)
        .transpose()
}

/// Like [`find`], and holds the row's lock until the transaction ends
/// (`FOR UPDATE` on Postgres; on SQLite the transaction already is the only
/// writer). Call inside a transaction, before reading members.
pub fn lock(conn: &mut DbConn, id: Uuid) -> StoreResult<Option<ConversationRow>> {
    let query = conversations::table
        .filter(conversations::id.eq(Id(id)))
        .select(COLUMNS);
    let found = match &mut conn.0 {
        AnyConnection::Postgresql(c) => query.for_update().first::<Record>(c).optional(),
        AnyConnection::Sqlite(c) => query.first::<Record>(c).optional(),
    }
    .db()?;
    found.map(row).transpose()
}

/// The group named exactly `name` (already lower-cased and checked).
pub fn find_by_name(conn: &mut DbConn, name: &str) -> StoreResult<Option<ConversationRow>> {
    conversations::table
        .filter(conversations::name.eq(name))
        .select(COLUMNS)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()?
        .map(row)
        .transpose()
}

/// The conversation whose join link is `token`.
pub fn find_by_join_token(conn: &mut DbConn, token: Uuid) -> StoreResult<Option<ConversationRow>> {
    conversations::table
        .filter(conversations::join_token.eq(Some(Id(token))))
        .select(COLUMNS)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()?
        .map(row)
        .transpose()
}

// ---- direct conversations ----

/// The key of a pair's direct conversation: both ids, lower first.
pub fn direct_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    format!("{}:{}", lo.0, hi.0)
}

#[derive(Insertable)]
#[diesel(table_name = conversations, treat_none_as_default_value = false)]
struct NewDirect<'a> {
    id: Id,
    kind: &'a str,
    direct_key: Option<&'a str>,
    member_cap: i32,
    created_by: Option<Id>,
    created_at: Ts,
    updated_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = conversation_members, treat_none_as_default_value = false)]
struct NewMember<'a> {
    conversation_id: Id,
    user_id: Id,
    role: &'a str,
    joined_at: Ts,
}

/// Creates the direct conversations of `pairs` (key, creator, other), each
/// with both users as members, unless they exist, and opens a message
/// request where the other user's policy asks for one
/// ([`requests`]); returns the keys created here. One insert for all, in
/// key order: transactions creating
/// overlapping pairs (REST or send path, on any node) wait on the unique key
/// in the same order, so they cannot deadlock, and a pair created
/// concurrently elsewhere is settled by that key.
pub(crate) fn insert_directs(
    conn: &mut DbConn,
    pairs: &[(&str, UserId, UserId)],
    ts: Ts,
) -> StoreResult<HashSet<String>> {
    if pairs.is_empty() {
        return Ok(HashSet::new());
    }
    let mut sorted: Vec<&(&str, UserId, UserId)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let rows: Vec<NewDirect> = sorted
        .iter()
        .map(|(key, creator, _)| NewDirect {
            id: Id(Uuid::now_v7()),
            kind: ConversationKind::Direct.as_str(),
            direct_key: Some(key),
            member_cap: DIRECT_CAP as i32,
            created_by: Some(Id::from(*creator)),
            created_at: ts,
            updated_at: ts,
        })
        .collect();
    let created: Vec<(Id, Option<String>)> =
        on_backend!(conn, |c| diesel::insert_into(conversations::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .returning((conversations::id, conversations::direct_key))
            .get_results(c))
        .db()?;
    let mut members = Vec::new();
    let mut keys = HashSet::new();
    let mut new = Vec::new();
    for (id, key) in created {
        let Some(key) = key else { continue };
        let Some((_, a, b)) = sorted.iter().find(|p| p.0 == key) else {
            continue;
        };
        new.push((id.0, *a, *b));
        for user in if a == b { vec![*a] } else { vec![*a, *b] } {
            members.push(NewMember {
                conversation_id: id,
                user_id: Id::from(user),
                role: "member",
                joined_at: ts,
            });
        }
        keys.insert(key);
    }
    if !members.is_empty() {
        on_backend!(conn, |c| diesel::insert_into(conversation_members::table)
            .values(&members)
            .on_conflict_do_nothing()
            .execute(c))
        .db()?;
    }
    requests::open(conn, &new, ts)?;
    Ok(keys)
}

/// The direct conversation of `a` and `b`, created (by `a`, with both as
/// members) when missing. The flag says whether this call created it.
/// Concurrent calls for one pair, here or in the send path, on any node,
/// end with the same conversation. Call inside a transaction.
pub fn direct(
    conn: &mut DbConn,
    a: UserId,
    b: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(ConversationRow, bool)> {
    let key = direct_key(a, b);
    let created = match find_direct(conn, &key)? {
        Some(found) => return Ok((found, false)),
        None => !insert_directs(conn, &[(key.as_str(), a, b)], Ts::new(now))?.is_empty(),
    };
    let found = find_direct(conn, &key)?
        .ok_or_else(|| StoreError::Internal("direct conversation vanished".into()))?;
    Ok((found, created))
}

/// The direct conversation of `a` and `b`, if it exists.
pub fn find_direct_of(
    conn: &mut DbConn,
    a: UserId,
    b: UserId,
) -> StoreResult<Option<ConversationRow>> {
    find_direct(conn, &direct_key(a, b))
}

fn find_direct(conn: &mut DbConn, key: &str) -> StoreResult<Option<ConversationRow>> {
    conversations::table
        .filter(conversations::direct_key.eq(Some(key)))
        .select(COLUMNS)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()?
        .map(row)
        .transpose()
}
