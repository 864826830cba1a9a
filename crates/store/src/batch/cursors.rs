//! The `device_streams` cursors of a batch: read, locked in device-id order,
//! and written back in one statement.
//!
//! On Postgres the rows are locked with `SELECT … ORDER BY device_id FOR
//! UPDATE`, so two batches touching the same devices take the locks in the
//! same order and cannot deadlock; the write-back is one `UPDATE … FROM
//! unnest(…)`. SQLite has one writer at a time (the store's writer lock), so
//! a plain read is already exclusive and the write-back is a short loop of
//! in-process statements.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::DeviceId;
use crate::conn::{AnyConnection, DbConn};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::device_streams;
use crate::sql_types::{DbUuid, Id};
use crate::streams::{to_i64, to_u64};

/// One device's cursors as read, and as the batch leaves them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor {
    pub last_seq: u64,
    pub acked_seq: u64,
    read: (u64, u64),
}

fn load(
    conn: &mut DbConn,
    devices: &HashSet<DeviceId>,
    for_update: bool,
) -> StoreResult<HashMap<DeviceId, Cursor>> {
    if devices.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids: Vec<Id> = devices.iter().map(|d| Id::from(*d)).collect();
    ids.sort_by_key(|i| i.0);
    let query = device_streams::table
        .filter(device_streams::device_id.eq_any(&ids))
        .order(device_streams::device_id.asc())
        .select((
            device_streams::device_id,
            device_streams::last_seq,
            device_streams::acked_seq,
        ));
    let rows: Vec<(Id, i64, i64)> = match &mut conn.0 {
        AnyConnection::Postgresql(c) if for_update => query.for_update().load(c),
        AnyConnection::Postgresql(c) => query.load(c),
        AnyConnection::Sqlite(c) => query.load(c),
    }
    .db()?;
    Ok(rows
        .into_iter()
        .map(|(id, last, acked)| {
            let (last, acked) = (to_u64(last), to_u64(acked));
            (
                DeviceId::from(id),
                Cursor {
                    last_seq: last,
                    acked_seq: acked,
                    read: (last, acked),
                },
            )
        })
        .collect())
}

/// The devices' cursors, without locking (a snapshot).
pub(crate) fn read(
    conn: &mut DbConn,
    devices: &HashSet<DeviceId>,
) -> StoreResult<HashMap<DeviceId, Cursor>> {
    load(conn, devices, false)
}

/// The devices' cursors, locked until the transaction ends.
pub(crate) fn lock(
    conn: &mut DbConn,
    devices: &HashSet<DeviceId>,
) -> StoreResult<HashMap<DeviceId, Cursor>> {
    load(conn, devices, true)
}

/// Writes back the cursors the batch moved.
pub(crate) fn store(conn: &mut DbConn, cursors: &HashMap<DeviceId, Cursor>) -> StoreResult<()> {
    let changed: Vec<(Id, i64, i64)> = cursors
        .iter()
        .filter(|(_, c)| (c.last_seq, c.acked_seq) != c.read)
        .map(|(d, c)| (Id::from(*d), to_i64(c.last_seq), to_i64(c.acked_seq)))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            super::pg::UpdateCursors {
                device_id: changed.iter().map(|r| r.0.0).collect(),
                last_seq: changed.iter().map(|r| r.1).collect(),
                acked_seq: changed.iter().map(|r| r.2).collect(),
            }
            .execute(c)
            .db()?;
        }
        AnyConnection::Sqlite(c) => {
            // One statement per chunk (SQLite >= 3.33 has UPDATE ... FROM).
            for chunk in changed.chunks(300) {
                let rows = vec!["(?, ?, ?)"; chunk.len()].join(", ");
                let sql = format!(
                    "UPDATE device_streams SET last_seq = v.column2, acked_seq = v.column3 \
                     FROM (VALUES {rows}) AS v WHERE device_streams.device_id = v.column1"
                );
                let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
                for (id, last, acked) in chunk {
                    query = query
                        .bind::<DbUuid, _>(*id)
                        .bind::<BigInt, _>(*last)
                        .bind::<BigInt, _>(*acked);
                }
                query.execute(c).db()?;
            }
        }
    }
    Ok(())
}
