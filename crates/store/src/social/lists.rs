//! The two lists of an account: contacts and blocks. Adding, removing, one
//! entry, and keyset-paged listing in `(created_at, other user's id)` order,
//! each page with the relation between the list's owner and every listed
//! user (read for the whole page in two statements).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::Relation;

use super::{Listed, PROFILE_COLUMNS, Page, PageKey, Profile, ProfileRecord, profile};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{blocks, contacts, users};
use crate::sql_types::{Id, Ts};

/// The relations between `me` and each of `others`, with each other user as
/// `a` and `me` as `b`: two statements (blocks, contacts) for a whole page.
pub(crate) fn relations_with(
    conn: &mut DbConn,
    me: UserId,
    others: &[UserId],
) -> StoreResult<HashMap<UserId, Relation>> {
    let mut out: HashMap<UserId, Relation> =
        others.iter().map(|u| (*u, Relation::default())).collect();
    if others.is_empty() {
        return Ok(out);
    }
    let me_id = Id::from(me);
    let ids: Vec<Id> = others.iter().map(|u| Id::from(*u)).collect();
    let block_rows = on_backend!(conn, |c| blocks::table
        .filter(
            blocks::blocker_id
                .eq(me_id)
                .and(blocks::blocked_id.eq_any(&ids))
                .or(blocks::blocked_id
                    .eq(me_id)
                    .and(blocks::blocker_id.eq_any(&ids))),
        )
        .select((blocks::blocker_id, blocks::blocked_id))
        .load::<(Id, Id)>(c))
    .db()?;
    let contact_rows = on_backend!(conn, |c| contacts::table
        .filter(
            contacts::owner_id
                .eq(me_id)
                .and(contacts::contact_id.eq_any(&ids))
                .or(contacts::contact_id
                    .eq(me_id)
                    .and(contacts::owner_id.eq_any(&ids))),
        )
        .select((contacts::owner_id, contacts::contact_id))
        .load::<(Id, Id)>(c))
    .db()?;
    for (from, to) in block_rows {
        if from == me_id {
            if let Some(r) = out.get_mut(&UserId::from(to)) {
                r.b_blocked_a = true;
            }
        } else if let Some(r) = out.get_mut(&UserId::from(from)) {
            r.a_blocked_b = true;
        }
    }
    for (from, to) in contact_rows {
        if from == me_id {
            if let Some(r) = out.get_mut(&UserId::from(to)) {
                r.b_has_a_as_contact = true;
            }
        } else if let Some(r) = out.get_mut(&UserId::from(from)) {
            r.a_has_b_as_contact = true;
        }
    }
    Ok(out)
}

/// Attaches relations to a page of `(profile, since)` rows read with one
/// extra row beyond `limit`.
fn finish_page(
    conn: &mut DbConn,
    me: UserId,
    mut rows: Vec<(ProfileRecord, Ts)>,
    limit: u32,
) -> StoreResult<Page<Listed>> {
    let limit = limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let entries: Vec<(Profile, DateTime<Utc>)> = rows
        .into_iter()
        .map(|(p, t)| (profile(p), t.get()))
        .collect();
    let others: Vec<UserId> = entries.iter().map(|(p, _)| p.user_id).collect();
    let relations = relations_with(conn, me, &others)?;
    let next = match entries.last() {
        Some((p, at)) if more => Some(PageKey {
            at: *at,
            user_id: p.user_id,
        }),
        _ => None,
    };
    let items = entries
        .into_iter()
        .map(|(profile, since)| Listed {
            relation: relations.get(&profile.user_id).copied().unwrap_or_default(),
            profile,
            since,
        })
        .collect();
    Ok(Page { items, next })
}

// ---- contacts ----

/// Adds `contact` to `owner`'s list; `true` if it was not there yet.
/// `NotFound` when either user does not exist. The caller rules out
/// `owner == contact` (the database refuses it too).
pub fn add_contact(
    conn: &mut DbConn,
    owner: UserId,
    contact: UserId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let row = (
        contacts::owner_id.eq(Id::from(owner)),
        contacts::contact_id.eq(Id::from(contact)),
        contacts::created_at.eq(Ts::new(now)),
    );
    let n = conn.guarded(|c| {
        on_backend!(c, |c| diesel::insert_into(contacts::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))
        .db()
    })?;
    Ok(n > 0)
}

/// Removes `contact` from `owner`'s list; `false` if it was not there.
pub fn remove_contact(conn: &mut DbConn, owner: UserId, contact: UserId) -> StoreResult<bool> {
    let n = diesel::delete(
        contacts::table
            .filter(contacts::owner_id.eq(Id::from(owner)))
            .filter(contacts::contact_id.eq(Id::from(contact))),
    )
    .execute(&mut conn.0)
    .db()?;
    Ok(n > 0)
}

/// One entry of `owner`'s contact list.
pub fn contact(conn: &mut DbConn, owner: UserId, contact: UserId) -> StoreResult<Option<Listed>> {
    let row = contacts::table
        .inner_join(users::table.on(users::id.eq(contacts::contact_id)))
        .filter(contacts::owner_id.eq(Id::from(owner)))
        .filter(contacts::contact_id.eq(Id::from(contact)))
        .select((PROFILE_COLUMNS, contacts::created_at))
        .first::<(ProfileRecord, Ts)>(&mut conn.0)
        .optional()
        .db()?;
    let page = finish_page(conn, owner, row.into_iter().collect(), 1)?;
    Ok(page.items.into_iter().next())
}

/// `owner`'s contacts in the order they were added (ties by id), at most
/// `limit` after `after`.
pub fn list_contacts(
    conn: &mut DbConn,
    owner: UserId,
    after: Option<PageKey>,
    limit: u32,
) -> StoreResult<Page<Listed>> {
    let mut query = contacts::table
        .inner_join(users::table.on(users::id.eq(contacts::contact_id)))
        .filter(contacts::owner_id.eq(Id::from(owner)))
        .select((PROFILE_COLUMNS, contacts::created_at))
        .order((contacts::created_at.asc(), contacts::contact_id.asc()))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(k) = after {
        let (at, id) = (Ts::new(k.at), Id::from(k.user_id));
        query = query.filter(
            contacts::created_at
                .gt(at)
                .or(contacts::created_at.eq(at).and(contacts::contact_id.gt(id))),
        );
    }
    let rows = query.load::<(ProfileRecord, Ts)>(&mut conn.0).db()?;
    finish_page(conn, owner, rows, limit)
}

// ---- blocks ----

/// `blocker` blocks `blocked`; `true` if it was not blocked yet. `NotFound`
/// when either user does not exist.
pub fn block(
    conn: &mut DbConn,
    blocker: UserId,
    blocked: UserId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let row = (
        blocks::blocker_id.eq(Id::from(blocker)),
        blocks::blocked_id.eq(Id::from(blocked)),
        blocks::created_at.eq(Ts::new(now)),
    );
    let n = conn.guarded(|c| {
        on_backend!(c, |c| diesel::insert_into(blocks::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c))
        .db()
    })?;
    Ok(n > 0)
}

/// Lifts a block; `false` if there was none.
pub fn unblock(conn: &mut DbConn, blocker: UserId, blocked: UserId) -> StoreResult<bool> {
    let n = diesel::delete(
        blocks::table
            .filter(blocks::blocker_id.eq(Id::from(blocker)))
            .filter(blocks::blocked_id.eq(Id::from(blocked))),
    )
    .execute(&mut conn.0)
    .db()?;
    Ok(n > 0)
}

/// The users `blocker` blocks, oldest block first (ties by id), at most
/// `limit` after `after`.
pub fn list_blocks(
    conn: &mut DbConn,
    blocker: UserId,
    after: Option<PageKey>,
    limit: u32,
) -> StoreResult<Page<Listed>> {
    let mut query = blocks::table
        .inner_join(users::table.on(users::id.eq(blocks::blocked_id)))
        .filter(blocks::blocker_id.eq(Id::from(blocker)))
        .select((PROFILE_COLUMNS, blocks::created_at))
        .order((blocks::created_at.asc(), blocks::blocked_id.asc()))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(k) = after {
        let (at, id) = (Ts::new(k.at), Id::from(k.user_id));
        query = query.filter(
            blocks::created_at
                .gt(at)
                .or(blocks::created_at.eq(at).and(blocks::blocked_id.gt(id))),
        );
    }
    let rows = query.load::<(ProfileRecord, Ts)>(&mut conn.0).db()?;
    finish_page(conn, blocker, rows, limit)
}
