//! Schema introspection: what the migrated database actually contains
//! (`describe_schema`, read from the catalogue of each backend) and a proof
//! that the hand-kept `schema.rs` agrees with it (`check_schema_rs`).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::conn::{AnyConnection, DbConn};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{
    blocks, contacts, delivery_markers, device_events, device_streams, devices, game_invites,
    gateway_nodes, message_entries, message_requests, messages, read_markers, refresh_tokens,
    room_presence, users,
};
use crate::sql_types::{Id, Ts};
use crate::streams::{EventRecord, MessageRecord};
use crate::{devices as device_queries, refresh_tokens as token_queries, users as user_queries};

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

const PG_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name \
     FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name \
     FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
       AND m.name <> '__diesel_schema_migrations'";

pub(crate) fn describe_schema(conn: &mut DbConn) -> StoreResult<BTreeMap<String, Vec<String>>> {
    let rows: Vec<ColumnRow> = match &mut conn.0 {
        AnyConnection::Postgresql(c) => diesel::sql_query(PG_COLUMNS).load(c),
        AnyConnection::Sqlite(c) => diesel::sql_query(SQLITE_COLUMNS).load(c),
    }
    .db()?;
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        map.entry(row.table_name).or_default().push(row.column_name);
    }
    for columns in map.values_mut() {
        columns.sort();
    }
    Ok(map)
}

pub(crate) fn check_schema_rs(conn: &mut DbConn) -> StoreResult<()> {
    let c = &mut conn.0;
    users::table
        .select(users::all_columns)
        .limit(0)
        .load::<user_queries::Record>(c)
        .db()?;
    devices::table
        .select(devices::all_columns)
        .limit(0)
        .load::<device_queries::Record>(c)
        .db()?;
    refresh_tokens::table
        .select(refresh_tokens::all_columns)
        .limit(0)
        .load::<token_queries::Record>(c)
        .db()?;
    device_streams::table
        .select(device_streams::all_columns)
        .limit(0)
        .load::<(Id, Id, i64, i64)>(c)
        .db()?;
    messages::table
        .select(messages::all_columns)
        .limit(0)
        .load::<MessageRecord>(c)
        .db()?;
    message_entries::table
        .select(message_entries::all_columns)
        .limit(0)
        .load::<(Id, Id, String)>(c)
        .db()?;
    device_events::table
        .select(device_events::all_columns)
        .limit(0)
        .load::<EventRecord>(c)
        .db()?;
    contacts::table
        .select(contacts::all_columns)
        .limit(0)
        .load::<(Id, Id, Ts)>(c)
        .db()?;
    blocks::table
        .select(blocks::all_columns)
        .limit(0)
        .load::<(Id, Id, Ts)>(c)
        .db()?;
    room_presence::table
        .select(room_presence::all_columns)
        .limit(0)
        .load::<(Id, Id, Id, Id, Ts)>(c)
        .db()?;
    gateway_nodes::table
        .select(gateway_nodes::all_columns)
        .limit(0)
        .load::<(Id, Ts)>(c)
        .db()?;
    message_requests::table
        .select(message_requests::all_columns)
        .limit(0)
        .load::<(Id, Id, Id, String, Ts, Option<Ts>)>(c)
        .db()?;
    game_invites::table
        .select(game_invites::all_columns)
        .limit(0)
        .load::<crate::games::Record>(c)
        .db()?;
    read_markers::table
        .select(read_markers::all_columns)
        .limit(0)
        .load::<(Id, Id, Id, Ts)>(c)
        .db()?;
    delivery_markers::table
        .select(delivery_markers::all_columns)
        .limit(0)
        .load::<(Id, Id, Id)>(c)
        .db()?;
    Ok(())
}
