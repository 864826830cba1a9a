//! Presence: the sessions a user's presence is computed from
//! (`presence_sessions`), the presence others are shown (`user_presence`),
//! and the online watchers a change goes to.
//!
//! A session's row is written when it opens ([`open`]), flagged away or
//! active by the client ([`set_away`]) and stamped `closed_at` when it ends
//! ([`close`]). [`settle`] is the one place a user's shown status changes:
//! under the lock of the user's `user_presence` row it drops the rows whose
//! grace is over, derives the status from what is left (any active session:
//! online; only away ones: away; none: offline), applies invisibility, and
//! when the result differs from what was shown, stores it with the next
//! `version` and returns the [`Transition`] to announce. A closed row still
//! counts during its grace, so a connection that drops and comes back
//! within it changes nothing; [`due`] lists the users whose grace ran out,
//! for the gateway's sweeper to settle. Rows of a dead node are stamped
//! closed by [`close_orphans`].
//!
//! This module does not decide who may see what
//! (`passerelle_domain::presence_view` does); [`watchers`] reads the facts
//! that rule needs for every online watcher at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use passerelle_domain::{PresenceSettings, PresenceStatus, PresenceVisibility, Relation};
use uuid::Uuid;

use crate::UserId;
use crate::conn::{AnyConnection, DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{contacts, gateway_nodes, presence_sessions, user_presence, users};
use crate::social::relations_with;
use crate::sql_types::{Id, Ts};

/// The presence a user is shown with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub status: PresenceStatus,
    /// When the user was last connected; set when the status became
    /// offline, `None` for a user never seen offline.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Increases with every announcement about the user.
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// A change to announce: the user's presence after it, and their settings
/// (which decide who hears it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub user: UserId,
    pub presence: Presence,
    /// The status shown before it (the same when only who may see it
    /// changed).
    pub previous: PresenceStatus,
    pub settings: PresenceSettings,
}

/// One online watcher of a user: someone who has the user as a contact and
/// has a live session, with the node serving it and how the two relate
/// (the watched user as `a`, the watcher as `b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watcher {
    pub user: UserId,
    pub node: Uuid,
    pub relation: Relation,
}

/// A user's presence as seen by a viewer: the facts `presence_view` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub user: UserId,
    pub presence: Presence,
    pub settings: PresenceSettings,
    /// The owner as `a`, the viewer as `b`.
    pub relation: Relation,
}

type PresenceRecord = (Id, String, Option<Ts>, Ts, i64);

fn presence_of(r: PresenceRecord) -> (UserId, Presence) {
    (
        r.0.into(),
        Presence {
            status: PresenceStatus::from_stored(&r.1),
            last_seen_at: r.2.map(Ts::get),
            version: r.4,
            updated_at: r.3.get(),
        },
    )
}

/// What a user who never connected is shown.
fn never_seen(now: DateTime<Utc>) -> Presence {
    Presence {
        status: PresenceStatus::Offline,
        last_seen_at: None,
        version: 0,
        updated_at: now,
    }
}

const PRESENCE_COLUMNS: (
    user_presence::user_id,
    user_presence::status,
    user_presence::last_seen_at,
    user_presence::updated_at,
    user_presence::version,
) = (
    user_presence::user_id,
    user_presence::status,
    user_presence::last_seen_at,
    user_presence::updated_at,
    user_presence::version,
);

/// The presence settings of `user` (`None`: no such user).
pub fn settings(conn: &mut DbConn, user: UserId) -> StoreResult<Option<PresenceSettings>> {
    Ok(settings_of(conn, &[user])?.remove(&user))
}

fn settings_of(
    conn: &mut DbConn,
    ids: &[UserId],
) -> StoreResult<HashMap<UserId, PresenceSettings>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<Id> = ids.iter().map(|u| Id::from(*u)).collect();
    let rows = users::table
        .filter(users::id.eq_any(&keys))
        .select((
            users::id,
            users::presence_visibility,
            users::last_seen_visibility,
            users::invisible,
        ))
        .load::<(Id, String, String, bool)>(&mut conn.0)
        .db()?;
    Ok(rows
        .into_iter()
        .map(|(id, v, l, invisible)| {
            (
                id.into(),
                PresenceSettings {
                    visibility: PresenceVisibility::from_stored(&v),
                    last_seen: PresenceVisibility::from_stored(&l),
                    invisible,
                },
            )
        })
        .collect())
}

/// The shown presence of each of `ids` (users who never connected are
/// offline with no last-seen time).
pub fn presences(
    conn: &mut DbConn,
    ids: &[UserId],
    now: DateTime<Utc>,
) -> StoreResult<HashMap<UserId, Presence>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<Id> = ids.iter().map(|u| Id::from(*u)).collect();
    let mut out: HashMap<UserId, Presence> = user_presence::table
        .filter(user_presence::user_id.eq_any(&keys))
        .select(PRESENCE_COLUMNS)
        .load::<PresenceRecord>(&mut conn.0)
        .db()?
        .into_iter()
        .map(presence_of)
        .collect();
    for id in ids {
        out.entry(*id).or_insert_with(|| never_seen(now));
    }
    Ok(out)
}

/// What `viewer` needs to see `owners`' presence: their presence, settings
/// and relation to the viewer, in three statements for the lot. Unknown
/// owners are left out.
pub fn seen_by(
    conn: &mut DbConn,
    viewer: UserId,
    owners: &[UserId],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Seen>> {
    let settings = settings_of(conn, owners)?;
    let known: Vec<UserId> = owners
        .iter()
        .copied()
        .filter(|u| settings.contains_key(u))
        .collect();
    let presence = presences(conn, &known, now)?;
    // `relations_with` reads each owner as `a` and the viewer as `b`.
    let others: Vec<UserId> = known.iter().copied().filter(|u| *u != viewer).collect();
    let relations = relations_with(conn, viewer, &others)?;
    Ok(known
        .into_iter()
        .filter_map(|user| {
            Some(Seen {
                user,
                presence: *presence.get(&user)?,
                settings: *settings.get(&user)?,
                relation: relations.get(&user).copied().unwrap_or_default(),
            })
        })
        .collect())
}

// ---- sessions ----

/// Records a new session of `user` on `node` and settles the user's
/// presence (it may come online). Call inside a transaction.
pub fn open(
    conn: &mut DbConn,
    connection: Uuid,
    user: UserId,
    node: Uuid,
    now: DateTime<Utc>,
    grace: chrono::Duration,
) -> StoreResult<Option<Transition>> {
    let values = (
        presence_sessions::connection_id.eq(Id(connection)),
        presence_sessions::user_id.eq(Id::from(user)),
        presence_sessions::node_id.eq(Id(node)),
        presence_sessions::away.eq(false),
        presence_sessions::opened_at.eq(Ts::new(now)),
        presence_sessions::closed_at.eq(None::<Ts>),
    );
    on_backend!(conn, |c| diesel::insert_into(presence_sessions::table)
        .values(values)
        .on_conflict(presence_sessions::connection_id)
        .do_update()
        .set((
            presence_sessions::node_id.eq(Id(node)),
            presence_sessions::closed_at.eq(None::<Ts>),
        ))
        .execute(c))
    .db()?;
    settle(conn, user, now, grace, false)
}

/// Marks one live session away (or active again) and settles. `None` also
/// when the session has no live row (it ended meanwhile). Call inside a
/// transaction.
pub fn set_away(
    conn: &mut DbConn,
    connection: Uuid,
    user: UserId,
    away: bool,
    now: DateTime<Utc>,
    grace: chrono::Duration,
) -> StoreResult<Option<Transition>> {
    let updated = diesel::update(
        presence_sessions::table
            .filter(presence_sessions::connection_id.eq(Id(connection)))
            .filter(presence_sessions::user_id.eq(Id::from(user)))
            .filter(presence_sessions::closed_at.is_null()),
    )
    .set(presence_sessions::away.eq(away))
    .execute(&mut conn.0)
    .db()?;
    if updated == 0 {
        return Ok(None);
    }
    settle(conn, user, now, grace, false)
}

/// Stamps a session closed at `now`; its user is settled once the grace
/// is over (by the sweeper). Nothing to do for a session without a row.
pub fn close(conn: &mut DbConn, connection: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    diesel::update(
        presence_sessions::table
            .filter(presence_sessions::connection_id.eq(Id(connection)))
            .filter(presence_sessions::closed_at.is_null()),
    )
    .set(presence_sessions::closed_at.eq(Some(Ts::new(now))))
    .execute(&mut conn.0)
    .db()?;
    Ok(())
}

/// Users with a session closed at or before `before` (their grace is
/// over): at most `limit`, from the partial index on `closed_at`.
pub fn due(conn: &mut DbConn, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<UserId>> {
    let rows = presence_sessions::table
        .filter(presence_sessions::closed_at.le(Ts::new(before)))
        .select(presence_sessions::user_id)
        .order(presence_sessions::closed_at.asc())
        .limit(i64::from(limit))
        .load::<Id>(&mut conn.0)
        .db()?;
    let mut users: Vec<UserId> = rows.into_iter().map(UserId::from).collect();
    users.sort_unstable_by_key(|u| u.0);
    users.dedup();
    Ok(users)
}

/// Stamps closed (at `closed_at`) every live session of `nodes` (nodes
/// found dead). Returns how many.
pub fn close_nodes(
    conn: &mut DbConn,
    nodes: &[Uuid],
    closed_at: DateTime<Utc>,
) -> StoreResult<usize> {
    if nodes.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Id> = nodes.iter().map(|n| Id(*n)).collect();
    diesel::update(
        presence_sessions::table
            .filter(presence_sessions::node_id.eq_any(&ids))
            .filter(presence_sessions::closed_at.is_null()),
    )
    .set(presence_sessions::closed_at.eq(Some(Ts::new(closed_at))))
    .execute(&mut conn.0)
    .db()
}

/// Stamps closed (at `closed_at`) every live session whose node has no
/// `gateway_nodes` row: the node died or stopped without closing them.
/// Returns how many.
pub fn close_orphans(conn: &mut DbConn, closed_at: DateTime<Utc>) -> StoreResult<usize> {
    on_backend!(conn, |c| diesel::update(
        presence_sessions::table
            .filter(presence_sessions::closed_at.is_null())
            .filter(diesel::dsl::not(diesel::dsl::exists(
                gateway_nodes::table.filter(gateway_nodes::id.eq(presence_sessions::node_id))
            )))
    )
    .set(presence_sessions::closed_at.eq(Some(Ts::new(closed_at))))
    .execute(c))
    .db()
}

// ---- settling ----

/// Locks `user`'s presence row (creating it, offline, for a first
/// session): `FOR UPDATE` on Postgres; on SQLite the transaction already
/// is the only writer.
fn lock(conn: &mut DbConn, user: UserId, now: DateTime<Utc>) -> StoreResult<Presence> {
    let id = Id::from(user);
    let fresh = (
        user_presence::user_id.eq(id),
        user_presence::status.eq(PresenceStatus::Offline.as_str()),
        user_presence::last_seen_at.eq(None::<Ts>),
        user_presence::updated_at.eq(Ts::new(now)),
        user_presence::version.eq(0_i64),
    );
    on_backend!(conn, |c| diesel::insert_into(user_presence::table)
        .values(fresh)
        .on_conflict_do_nothing()
        .execute(c))
    .db()?;
    let query = user_presence::table
        .filter(user_presence::user_id.eq(id))
        .select(PRESENCE_COLUMNS);
    let record = match &mut conn.0 {
        AnyConnection::Postgresql(c) => query.for_update().first::<PresenceRecord>(c),
        AnyConnection::Sqlite(c) => query.first::<PresenceRecord>(c),
    }
    .db()?;
    Ok(presence_of(record).1)
}

/// Brings `user`'s shown presence in line with their sessions and
/// settings (see the module documentation); returns the transition to
/// announce, if any. With `force`, a transition is returned (and the
/// version moves) even when the status stays: the user's settings changed,
/// so who may see it did. `None` for a user that does not exist. Call
/// inside a transaction.
pub fn settle(
    conn: &mut DbConn,
    user: UserId,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    force: bool,
) -> StoreResult<Option<Transition>> {
    let Some(settings) = settings(conn, user)? else {
        return Ok(None);
    };
    let shown_before = lock(conn, user, now)?;
    let cutoff = now - grace;
    let rows = presence_sessions::table
        .filter(presence_sessions::user_id.eq(Id::from(user)))
        .select((presence_sessions::away, presence_sessions::closed_at))
        .load::<(bool, Option<Ts>)>(&mut conn.0)
        .db()?;
    let ended = |closed: &Option<Ts>| closed.is_some_and(|t| t.get() <= cutoff);
    let last_closed = rows.iter().filter_map(|(_, c)| c.map(Ts::get)).max();
    if rows.iter().any(|(_, c)| ended(c)) {
        diesel::delete(
            presence_sessions::table
                .filter(presence_sessions::user_id.eq(Id::from(user)))
                .filter(presence_sessions::closed_at.le(Ts::new(cutoff))),
        )
        .execute(&mut conn.0)
        .db()?;
    }
    let real = PresenceStatus::of_sessions(rows.iter().filter(|(_, c)| !ended(c)).map(|(a, _)| *a));
    let shown = settings.shown(real);
    if shown == shown_before.status && !force {
        return Ok(None);
    }
    let last_seen_at = match (shown_before.status, shown) {
        // Going offline: last connected when the last session closed, or
        // now when the user is hiding (invisible) or closed nothing here.
        (before, PresenceStatus::Offline) if before != PresenceStatus::Offline => {
            Some(match real {
                PresenceStatus::Offline => last_closed.unwrap_or(now),
                _ => now,
            })
        }
        _ => shown_before.last_seen_at,
    };
    let after = Presence {
        status: shown,
        last_seen_at,
        version: shown_before.version + 1,
        updated_at: now,
    };
    diesel::update(user_presence::table.filter(user_presence::user_id.eq(Id::from(user))))
        .set((
            user_presence::status.eq(after.status.as_str()),
            user_presence::last_seen_at.eq(after.last_seen_at.map(Ts::new)),
            user_presence::updated_at.eq(Ts::new(now)),
            user_presence::version.eq(after.version),
        ))
        .execute(&mut conn.0)
        .db()?;
    Ok(Some(Transition {
        user,
        presence: after,
        previous: shown_before.status,
        settings,
    }))
}

// ---- audience ----

/// Watchers whose relations are read per statement (each statement binds
/// two lists of them; SQLite allows 32,766 variables).
const RELATION_SLICE: usize = 5_000;

/// The online watchers of `user`: every user who has `user` as a contact
/// and a live session, once per node serving them, with their relation to
/// `user`. Three statements whatever the number of contacts; the first
/// reads only contacts that are online (`presence_sessions` joined on the
/// watcher), so a user with thousands of offline contacts costs nothing
/// for them.
pub fn watchers(conn: &mut DbConn, user: UserId) -> StoreResult<Vec<Watcher>> {
    let rows = contacts::table
        .inner_join(
            presence_sessions::table.on(presence_sessions::user_id
                .eq(contacts::owner_id)
                .and(presence_sessions::closed_at.is_null())),
        )
        .filter(contacts::contact_id.eq(Id::from(user)))
        .select((contacts::owner_id, presence_sessions::node_id))
        .distinct()
        .load::<(Id, Id)>(&mut conn.0)
        .db()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<UserId> = rows.iter().map(|(u, _)| UserId::from(*u)).collect();
    ids.sort_unstable_by_key(|u| u.0);
    ids.dedup();
    // Each watcher as `a`, `user` as `b`: reversed below. In slices, so
    // that SQLite's bound-variable limit (two lists of ids per slice) holds
    // however many watchers are online.
    let mut relations = HashMap::with_capacity(ids.len());
    for slice in ids.chunks(RELATION_SLICE) {
        relations.extend(relations_with(conn, user, slice)?);
    }
    Ok(rows
        .into_iter()
        .map(|(watcher, node)| {
            let watcher = UserId::from(watcher);
            Watcher {
                user: watcher,
                node: node.0,
                relation: relations
                    .get(&watcher)
                    .copied()
                    .unwrap_or_default()
                    .reversed(),
            }
        })
        .collect())
}

/// The nodes serving live sessions of each of `ids`: where a message to
/// those users only (a re-announcement to one viewer) must go.
pub fn nodes_of(conn: &mut DbConn, ids: &[UserId]) -> StoreResult<Vec<(UserId, Uuid)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Id> = ids.iter().map(|u| Id::from(*u)).collect();
    let rows = presence_sessions::table
        .filter(presence_sessions::user_id.eq_any(&keys))
        .filter(presence_sessions::closed_at.is_null())
        .select((presence_sessions::user_id, presence_sessions::node_id))
        .distinct()
        .load::<(Id, Id)>(&mut conn.0)
        .db()?;
    Ok(rows.into_iter().map(|(u, n)| (u.into(), n.0)).collect())
}
