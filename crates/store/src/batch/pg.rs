//! The batch's Postgres statements over arrays (`unnest`), so each has one
//! SQL text whatever the batch size and is parsed and planned once per
//! connection.
//!
//! Diesel caches a prepared statement by its SQL text unless the query marks
//! itself uncacheable; multi-row `VALUES` inserts and `sql_query` always do
//! (the text changes with the row count, or diesel cannot tell). These
//! statements bind one array per column instead: the text is fixed, so the
//! connection's statement cache keeps them prepared.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{
    Array, BigInt, Bool, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid,
};
use uuid::Uuid;

use crate::schema::messages;
use crate::sql_types::{DbUuid, Id};
use crate::streams::{EventRecord, MessageRecord};

/// Marks a statement as cacheable by its SQL text (no static query id, and
/// nothing in `walk_ast` calls `unsafe_to_cache_prepared`).
macro_rules! cacheable_by_text {
    ($ty:ty) => {
        impl QueryId for $ty {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
        impl RunQueryDsl<PgConnection> for $ty {}
    };
}

/// `INSERT INTO messages … SELECT * FROM unnest(…)`.
#[derive(Default)]
pub(crate) struct InsertMessages {
    id: Vec<Uuid>,
    message_id: Vec<Uuid>,
    conversation_id: Vec<Option<Uuid>>,
    sender_id: Vec<Uuid>,
    sender_device_id: Vec<Uuid>,
    recipient_id: Vec<Option<Uuid>>,
    message_type: Vec<String>,
    timestamp: Vec<chrono::DateTime<chrono::Utc>>,
    session_id: Vec<String>,
    reply_to: Vec<Option<Uuid>>,
    blob_id: Vec<Option<String>>,
    is_read: Vec<bool>,
    read_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    created_at: Vec<chrono::DateTime<chrono::Utc>>,
    withheld: Vec<bool>,
    expires_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
}

impl InsertMessages {
    pub(crate) fn new(rows: &[MessageRecord]) -> Self {
        let mut s = InsertMessages::default();
        for r in rows {
            s.id.push(r.id.0);
            s.message_id.push(r.message_id.0);
            s.conversation_id.push(r.conversation_id.map(|i| i.0));
            s.sender_id.push(r.sender_id.0);
            s.sender_device_id.push(r.sender_device_id.0);
            s.recipient_id.push(r.recipient_id.map(|i| i.0));
            s.message_type.push(r.message_type.clone());
            s.timestamp.push(r.timestamp.get());
            s.session_id.push(r.session_id.clone());
            s.reply_to.push(r.reply_to.map(|i| i.0));
            s.blob_id.push(r.blob_id.clone());
            s.is_read.push(r.is_read);
            s.read_at.push(r.read_at.map(|t| t.get()));
            s.created_at.push(r.created_at.get());
            s.withheld.push(r.withheld);
            s.expires_at.push(r.expires_at.map(|t| t.get()));
        }
        s
    }
}

impl QueryFragment<Pg> for InsertMessages {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO messages (id, message_id, conversation_id, sender_id, \
             sender_device_id, recipient_id, message_type, \"timestamp\", session_id, \
             reply_to, blob_id, is_read, read_at, created_at, withheld, expires_at) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.message_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.conversation_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.sender_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.sender_device_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.recipient_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.message_type)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.timestamp)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.session_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.reply_to)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.blob_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.is_read)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Timestamptz>>, _>(&self.read_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.withheld)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Timestamptz>>, _>(&self.expires_at)?;
        out.push_sql(")");
        Ok(())
    }
}
cacheable_by_text!(InsertMessages);

/// `INSERT INTO device_events … SELECT * FROM unnest(…)`.
#[derive(Default)]
pub(crate) struct InsertEvents {
    device_id: Vec<Uuid>,
    seq: Vec<i64>,
    kind: Vec<i16>,
    message_id: Vec<Option<Uuid>>,
    actor_user_id: Vec<Option<Uuid>>,
    actor_device_id: Vec<Option<Uuid>>,
    created_at: Vec<chrono::DateTime<chrono::Utc>>,
    payload: Vec<Option<String>>,
}

impl InsertEvents {
    pub(crate) fn new(rows: &[EventRecord]) -> Self {
        let mut s = InsertEvents::default();
        for r in rows {
            s.device_id.push(r.device_id.0);
            s.seq.push(r.seq);
            s.kind.push(r.kind);
            s.message_id.push(r.message_id.map(|i| i.0));
            s.actor_user_id.push(r.actor_user_id.map(|i| i.0));
            s.actor_device_id.push(r.actor_device_id.map(|i| i.0));
            s.created_at.push(r.created_at.get());
            s.payload.push(r.meta.clone());
        }
        s
    }
}

impl QueryFragment<Pg> for InsertEvents {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO device_events (device_id, seq, kind, message_id, actor_user_id, \
             actor_device_id, created_at, meta) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.device_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SmallInt>, _>(&self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.message_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.actor_user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.actor_device_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.payload)?;
        out.push_sql(")");
        Ok(())
    }
}
cacheable_by_text!(InsertEvents);

/// Writes back the moved cursors: `UPDATE device_streams … FROM unnest(…)`.
pub(crate) struct UpdateCursors {
    pub device_id: Vec<Uuid>,
    pub last_seq: Vec<i64>,
    pub acked_seq: Vec<i64>,
}

impl QueryFragment<Pg> for UpdateCursors {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "UPDATE device_streams AS s SET last_seq = v.last_seq, acked_seq = v.acked_seq \
             FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.device_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.last_seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.acked_seq)?;
        out.push_sql(") AS v(device_id, last_seq, acked_seq) WHERE s.device_id = v.device_id");
        Ok(())
    }
}
cacheable_by_text!(UpdateCursors);

/// What a batch's acknowledgements deliver, for every acknowledging device
/// at once: the messages from other users in each device's stream between
/// its old cursor (exclusive) and the acknowledged sequence (inclusive).
/// Rows: (device, seq, message), in (device, seq) order.
pub(crate) struct NewlyDelivered {
    pub device_id: Vec<Uuid>,
    pub user_id: Vec<Uuid>,
    pub from_seq: Vec<i64>,
    pub to_seq: Vec<i64>,
}

impl QueryFragment<Pg> for NewlyDelivered {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT e.device_id, e.seq, m.id, m.message_id, m.conversation_id, m.sender_id, \
             m.sender_device_id, m.recipient_id, m.message_type, m.\"timestamp\", \
             m.session_id, m.reply_to, m.blob_id, m.is_read, m.read_at, m.created_at, m.withheld, \
             m.expires_at \
             FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.device_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.from_seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.to_seq)?;
        out.push_sql(
            ") AS r(device_id, user_id, from_seq, to_seq) \
             JOIN device_events e ON e.device_id = r.device_id \
             AND e.seq > r.from_seq AND e.seq <= r.to_seq AND e.kind = 1 \
             JOIN messages m ON m.id = e.message_id AND m.sender_id <> r.user_id \
             AND m.recipient_id IS NOT NULL \
             ORDER BY e.device_id, e.seq",
        );
        Ok(())
    }
}

impl Query for NewlyDelivered {
    type SqlType = (DbUuid, BigInt, messages::SqlType);
}
cacheable_by_text!(NewlyDelivered);

/// Runs [`NewlyDelivered`].
pub(crate) fn newly_delivered(
    conn: &mut PgConnection,
    query: NewlyDelivered,
) -> QueryResult<Vec<(Id, i64, MessageRecord)>> {
    query.load(conn)
}

/// The delivery markers a batch's acknowledgements move to: per
/// acknowledging user and conversation, the newest message from someone
/// else in the device's range (see [`NewlyDelivered`] for the range).
/// Rows: (user, conversation, server id).
pub(crate) struct DeliveredUpTo {
    pub device_id: Vec<Uuid>,
    pub user_id: Vec<Uuid>,
    pub from_seq: Vec<i64>,
    pub to_seq: Vec<i64>,
}

impl QueryFragment<Pg> for DeliveredUpTo {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "SELECT DISTINCT ON (r.user_id, m.conversation_id) r.user_id, m.conversation_id, m.id \
             FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.device_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.from_seq)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.to_seq)?;
        out.push_sql(
            ") AS r(device_id, user_id, from_seq, to_seq) \
             JOIN device_events e ON e.device_id = r.device_id \
             AND e.seq > r.from_seq AND e.seq <= r.to_seq AND e.kind = 1 \
             JOIN messages m ON m.id = e.message_id AND m.sender_id <> r.user_id \
             AND m.conversation_id IS NOT NULL \
             ORDER BY r.user_id, m.conversation_id, m.id DESC",
        );
        Ok(())
    }
}

impl Query for DeliveredUpTo {
    type SqlType = (DbUuid, DbUuid, DbUuid);
}
cacheable_by_text!(DeliveredUpTo);

/// Moves delivery markers forward: `INSERT … SELECT FROM unnest(…) ORDER
/// BY` the key (rows locked in one order by every batch) `ON CONFLICT DO
/// UPDATE` only where the stored marker is older.
pub(crate) struct AdvanceDelivered {
    pub conversation_id: Vec<Uuid>,
    pub user_id: Vec<Uuid>,
    pub message_id: Vec<Uuid>,
}

impl QueryFragment<Pg> for AdvanceDelivered {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO delivery_markers (conversation_id, user_id, message_id) \
             SELECT v.conversation_id, v.user_id, v.message_id FROM unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.conversation_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.message_id)?;
        out.push_sql(
            ") AS v(conversation_id, user_id, message_id) \
             ORDER BY v.conversation_id, v.user_id \
             ON CONFLICT (conversation_id, user_id) DO UPDATE \
             SET message_id = excluded.message_id \
             WHERE delivery_markers.message_id < excluded.message_id",
        );
        Ok(())
    }
}
cacheable_by_text!(AdvanceDelivered);
