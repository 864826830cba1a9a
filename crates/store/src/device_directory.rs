//! The device directory: which active devices (and registration numbers) a
//! user has, who may read it, and who is told when it changes.
//!
//! - **Readers.** Anyone the user has not blocked (anyone who may send them
//!   a message, as a message or a message request). A block answers like a
//!   user that does not exist. Names are shown only when the owner set
//!   `share_device_names`.
//! - **Audience of a change.** The user (their other devices), every user
//!   who shares a conversation with them, and every user who has them as a
//!   contact, minus the users they block (who may not read the directory
//!   either). One query; the events are appended to the audience's device
//!   streams ([`crate::batch::append`]) in slices, so that a user in huge
//!   conversations stays within SQLite's bind limit.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::batch::{Note, append_except};
use crate::conn::DbConn;
use crate::devices::{self, DeviceRow};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{blocks, contacts, conversation_members, users};
use crate::sql_types::Id;
use crate::streams::{EventKind, StreamEvent};
use crate::{DeviceId, UserId};

/// Users per appended slice of a change's audience.
const AUDIENCE_SLICE: usize = 5_000;

/// What a reader may see of a user's devices.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Whether the owner shares device names (the reader sees `name` only
    /// then; the owner always does).
    pub names_shared: bool,
    /// Active devices, oldest first.
    pub devices: Vec<DeviceRow>,
}

/// `target`'s directory as `viewer` may read it; `None` when `target` does
/// not exist or blocks `viewer`.
pub fn read(conn: &mut DbConn, viewer: UserId, target: UserId) -> StoreResult<Option<Directory>> {
    let shared = users::table
        .filter(users::id.eq(Id::from(target)))
        .select(users::share_device_names)
        .first::<bool>(&mut conn.0)
        .optional()
        .db()?;
    let Some(shared) = shared else {
        return Ok(None);
    };
    if viewer != target {
        let blocked = diesel::select(diesel::dsl::exists(
            blocks::table
                .filter(blocks::blocker_id.eq(Id::from(target)))
                .filter(blocks::blocked_id.eq(Id::from(viewer))),
        ))
        .get_result::<bool>(&mut conn.0)
        .db()?;
        if blocked {
            return Ok(None);
        }
    }
    Ok(Some(Directory {
        names_shared: shared || viewer == target,
        devices: devices::list_active(conn, target)?,
    }))
}

/// Who is told about a change of `user`'s devices (`user` included).
pub fn audience(conn: &mut DbConn, user: UserId) -> StoreResult<Vec<UserId>> {
    let me = Id::from(user);
    let mine = conversation_members::table
        .filter(conversation_members::user_id.eq(me))
        .select(conversation_members::conversation_id)
        .load::<Id>(&mut conn.0)
        .db()?;
    let mut co_members = Vec::new();
    for slice in mine.chunks(AUDIENCE_SLICE) {
        co_members.extend(
            conversation_members::table
                .filter(conversation_members::conversation_id.eq_any(slice))
                .select(conversation_members::user_id)
                .distinct()
                .load::<Id>(&mut conn.0)
                .db()?,
        );
    }
    let watchers = contacts::table
        .filter(contacts::contact_id.eq(me))
        .select(contacts::owner_id)
        .load::<Id>(&mut conn.0)
        .db()?;
    let blocked: BTreeSet<UserId> = blocks::table
        .filter(blocks::blocker_id.eq(me))
        .select(blocks::blocked_id)
        .load::<Id>(&mut conn.0)
        .db()?
        .into_iter()
        .map(UserId::from)
        .collect();
    let mut out: BTreeSet<UserId> = co_members
        .into_iter()
        .chain(watchers)
        .map(UserId::from)
        .filter(|u| !blocked.contains(u))
        .collect();
    out.insert(user);
    Ok(out.into_iter().collect())
}

/// Appends one `devices` event per payload (JSON metadata written by the
/// caller) to the streams of every active device of `user`'s audience but
/// the devices `about` (the ones that changed: they know), in the caller's
/// transaction; returns the events to publish after commit.
pub fn announce(
    conn: &mut DbConn,
    user: UserId,
    about: &[DeviceId],
    payloads: &[String],
    now: DateTime<Utc>,
) -> StoreResult<Vec<StreamEvent>> {
    if payloads.is_empty() {
        return Ok(Vec::new());
    }
    let everyone = audience(conn, user)?;
    let mut out = Vec::new();
    for slice in everyone.chunks(AUDIENCE_SLICE) {
        let notes: Vec<Note> = payloads
            .iter()
            .map(|p| Note {
                users: slice.to_vec(),
                kind: EventKind::Devices,
                payload: p.clone(),
            })
            .collect();
        out.extend(append_except(conn, &notes, about, now)?);
    }
    Ok(out)
}

/// The user of each of `ids` (active or revoked); unknown ids are left out.
pub fn owners(
    conn: &mut DbConn,
    ids: &[DeviceId],
) -> StoreResult<std::collections::HashMap<DeviceId, UserId>> {
    use crate::schema::devices as d;
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let ids: Vec<Id> = ids.iter().map(|i| Id::from(*i)).collect();
    Ok(d::table
        .filter(d::id.eq_any(&ids))
        .select((d::id, d::user_id))
        .load::<(Id, Id)>(&mut conn.0)
        .db()?
        .into_iter()
        .map(|(d, u)| (d.into(), u.into()))
        .collect())
}
