//! Gateway node liveness, for the presence rows a node cannot remove
//! itself because it crashed: each node refreshes its `gateway_nodes` row
//! ([`beat`]); the others delete rows not refreshed in time
//! ([`expire_nodes`]); presence rows whose node has no row left
//! ([`orphaned_presence`]) are then taken out of their rooms like any
//! leave. A node that stops cleanly deletes its own row ([`retire`]); a
//! live node finds its own rows ([`presence_of_node`]) to remove those its
//! sessions could not.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{gateway_nodes, room_presence};
use crate::sql_types::{Id, Ts};

/// Records that `node` is alive at `now`. `false` when its row was missing:
/// a first beat, or other nodes took it for dead (and removed its
/// sessions from their rooms) since the last one.
pub fn beat(conn: &mut DbConn, node: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
    let updated = diesel::update(gateway_nodes::table.filter(gateway_nodes::id.eq(Id(node))))
        .set(gateway_nodes::seen_at.eq(Ts::new(now)))
        .execute(&mut conn.0)
        .db()?;
    if updated > 0 {
        return Ok(true);
    }
    let values = (
        gateway_nodes::id.eq(Id(node)),
        gateway_nodes::seen_at.eq(Ts::new(now)),
    );
    on_backend!(conn, |c| diesel::insert_into(gateway_nodes::table)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))
    .db()?;
    Ok(false)
}

/// Deletes the rows of nodes not seen since `before`; returns their ids.
/// Their presence rows are then orphans.
pub fn expire_nodes(conn: &mut DbConn, before: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
    let ids = on_backend!(conn, |c| diesel::delete(
        gateway_nodes::table.filter(gateway_nodes::seen_at.lt(Ts::new(before)))
    )
    .returning(gateway_nodes::id)
    .get_results::<Id>(c))
    .db()?;
    Ok(ids.into_iter().map(|i| i.0).collect())
}

/// Deletes `node`'s own row (a clean stop); its remaining presence rows are
/// then orphans.
pub fn retire(conn: &mut DbConn, node: Uuid) -> StoreResult<()> {
    diesel::delete(gateway_nodes::table.filter(gateway_nodes::id.eq(Id(node))))
        .execute(&mut conn.0)
        .db()?;
    Ok(())
}

/// `node`'s presence rows: `(conversation, connection)`, at most `limit`.
pub fn presence_of_node(
    conn: &mut DbConn,
    node: Uuid,
    limit: u32,
) -> StoreResult<Vec<(Uuid, Uuid)>> {
    let rows = room_presence::table
        .filter(room_presence::node_id.eq(Id(node)))
        .select((room_presence::conversation_id, room_presence::connection_id))
        .limit(i64::from(limit))
        .load::<(Id, Id)>(&mut conn.0)
        .db()?;
    Ok(rows.into_iter().map(|(c, s)| (c.0, s.0)).collect())
}

/// Presence rows whose node has no `gateway_nodes` row (dead, or stopped
/// without finishing its own clean-up): `(conversation, connection)`, at
/// most `limit`.
pub fn orphaned_presence(conn: &mut DbConn, limit: u32) -> StoreResult<Vec<(Uuid, Uuid)>> {
    let rows = on_backend!(conn, |c| room_presence::table
        .filter(diesel::dsl::not(diesel::dsl::exists(
            gateway_nodes::table.filter(gateway_nodes::id.eq(room_presence::node_id))
        )))
        .select((room_presence::conversation_id, room_presence::connection_id))
        .limit(i64::from(limit))
        .load::<(Id, Id)>(c))
    .db()?;
    Ok(rows.into_iter().map(|(c, s)| (c.0, s.0)).collect())
}
