//! Message metadata and the per-device durable streams: the types the
//! routing core works with, reading a stream for replay, its state, and the
//! retention sweep. Writing (sends and acknowledgements, batched) is in
//! [`crate::batch`].
//!
//! A device's stream is `device_events` ordered by `seq`. Sequences are
//! allocated under the device's `device_streams` row lock, so for one device
//! they commit in increasing order: a reader that has seen `seq` n has seen
//! every event up to n that will ever exist.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{device_events, device_streams, messages};
use crate::sql_types::{Id, Ts};
use crate::{DeviceId, UserId};

/// A message's metadata as stored (the seed's row plus routing fields).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    /// The server's id (UUID v7).
    pub id: Uuid,
    /// The sender's id; unique.
    pub message_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub sender_id: UserId,
    pub sender_device_id: DeviceId,
    pub recipient_id: Option<UserId>,
    pub message_type: String,
    pub timestamp: DateTime<Utc>,
    pub session_id: String,
    pub reply_to: Option<Uuid>,
    pub blob_id: Option<String>,
    /// A `game_invite`'s game id: not a column of `messages` but of its
    /// invitation (`game_invites`), attached where messages are read.
    pub game_id: Option<String>,
    pub is_read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Kept for the sender only (the recipient blocks them): never
    /// delivered to the recipient nor shown in their history.
    pub withheld: bool,
    /// When it disappears (sent while its conversation had a timer).
    pub expires_at: Option<DateTime<Utc>>,
}

/// `treat_none_as_default_value = false`: `None` is written as NULL. With
/// the default (`None` = `DEFAULT`), diesel cannot batch SQLite inserts and
/// runs one INSERT per row, each in its own savepoint.
#[derive(Queryable, Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
pub(crate) struct MessageRecord {
    pub id: Id,
    pub message_id: Id,
    pub conversation_id: Option<Id>,
    pub sender_id: Id,
    pub sender_device_id: Id,
    pub recipient_id: Option<Id>,
    pub message_type: String,
    pub timestamp: Ts,
    pub session_id: String,
    pub reply_to: Option<Id>,
    pub blob_id: Option<String>,
    pub is_read: bool,
    pub read_at: Option<Ts>,
    pub created_at: Ts,
    pub withheld: bool,
    pub expires_at: Option<Ts>,
}

impl From<MessageRecord> for MessageRow {
    fn from(r: MessageRecord) -> Self {
        MessageRow {
            id: r.id.0,
            message_id: r.message_id.0,
            conversation_id: r.conversation_id.map(|i| i.0),
            sender_id: r.sender_id.into(),
            sender_device_id: r.sender_device_id.into(),
            recipient_id: r.recipient_id.map(Into::into),
            message_type: r.message_type,
            timestamp: r.timestamp.get(),
            session_id: r.session_id,
            reply_to: r.reply_to.map(|i| i.0),
            blob_id: r.blob_id,
            game_id: None,
            is_read: r.is_read,
            read_at: r.read_at.map(Ts::get),
            created_at: r.created_at.get(),
            withheld: r.withheld,
            expires_at: r.expires_at.map(Ts::get),
        }
    }
}

impl From<&MessageRow> for MessageRecord {
    fn from(m: &MessageRow) -> Self {
        MessageRecord {
            id: Id(m.id),
            message_id: Id(m.message_id),
            conversation_id: m.conversation_id.map(Id),
            sender_id: m.sender_id.into(),
            sender_device_id: m.sender_device_id.into(),
            recipient_id: m.recipient_id.map(Into::into),
            message_type: m.message_type.clone(),
            timestamp: Ts::new(m.timestamp),
            session_id: m.session_id.clone(),
            reply_to: m.reply_to.map(Id),
            blob_id: m.blob_id.clone(),
            is_read: m.is_read,
            read_at: m.read_at.map(Ts::new),
            created_at: Ts::new(m.created_at),
            withheld: m.withheld,
            expires_at: m.expires_at.map(Ts::new),
        }
    }
}

/// What a stream event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A message for the device's user, or sent by them (sync copy).
    Message,
    /// One recipient device acknowledged a message the user sent.
    Receipt,
    /// A conversation changed (created, members joined, left, were invited
    /// or removed, roles, settings); the payload says how.
    Conversation,
    /// A message is gone (retracted); the payload names it.
    Deleted,
    /// Messages of a conversation reached their expiry and were deleted;
    /// the payload names them.
    Expired,
    /// A game invitation changed state; the payload says how.
    Game,
    /// A member moved their read marker; the payload says where.
    Read,
    /// A user's device list changed (a device added, re-registered or
    /// revoked); the payload says how.
    Devices,
    /// What was here is gone (a retracted, expired or room message and
    /// its copies and receipts): the row stays, with nothing in it, so
    /// that the stream has no hole (a hole would read as retention), and is
    /// never sent.
    Erased,
}

impl EventKind {
    pub(crate) fn code(self) -> i16 {
        match self {
            EventKind::Message => 1,
            EventKind::Receipt => 2,
            EventKind::Conversation => 3,
            EventKind::Deleted => 4,
            EventKind::Expired => 6,
            EventKind::Game => 5,
            EventKind::Read => 7,
            EventKind::Devices => 8,
            EventKind::Erased => 0,
        }
    }

    pub(crate) fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(EventKind::Message),
            2 => Some(EventKind::Receipt),
            3 => Some(EventKind::Conversation),
            4 => Some(EventKind::Deleted),
            6 => Some(EventKind::Expired),
            5 => Some(EventKind::Game),
            7 => Some(EventKind::Read),
            8 => Some(EventKind::Devices),
            0 => Some(EventKind::Erased),
            _ => None,
        }
    }
}

/// One event of one device's stream, with the message it is about (for
/// messages and receipts; `None` if that message is gone) or its payload
/// (JSON metadata, for the other kinds).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    pub device_id: DeviceId,
    /// The device's user (who the event is delivered to).
    pub user_id: UserId,
    pub seq: u64,
    pub kind: EventKind,
    pub message: Option<MessageRow>,
    pub payload: Option<String>,
    /// Receipts: the recipient and device that acknowledged.
    pub actor_user_id: Option<UserId>,
    pub actor_device_id: Option<DeviceId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = device_events, treat_none_as_default_value = false)]
pub(crate) struct EventRecord {
    pub device_id: Id,
    pub seq: i64,
    pub kind: i16,
    pub message_id: Option<Id>,
    pub actor_user_id: Option<Id>,
    pub actor_device_id: Option<Id>,
    pub created_at: Ts,
    /// JSON metadata of the events that are not a message (column `meta`).
    pub meta: Option<String>,
}

impl StreamEvent {
    pub(crate) fn from_records(
        e: EventRecord,
        m: Option<MessageRecord>,
        user_id: UserId,
    ) -> Option<StreamEvent> {
        Some(StreamEvent {
            device_id: e.device_id.into(),
            user_id,
            seq: u64::try_from(e.seq).ok()?,
            kind: EventKind::from_code(e.kind)?,
            message: m.map(Into::into),
            payload: e.meta,
            actor_user_id: e.actor_user_id.map(Into::into),
            actor_device_id: e.actor_device_id.map(Into::into),
            created_at: e.created_at.get(),
        })
    }
}

/// Where a device's stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamState {
    /// The newest sequence handed out (0: none yet).
    pub last_seq: u64,
    /// The newest sequence the device acknowledged.
    pub acked_seq: u64,
    /// The oldest sequence still stored, if any event is.
    pub oldest_seq: Option<u64>,
}

/// The device's stream state; `None` if the device does not exist.
pub fn state(conn: &mut DbConn, device: DeviceId) -> StoreResult<Option<StreamState>> {
    let row = device_streams::table
        .filter(device_streams::device_id.eq(Id::from(device)))
        .select((device_streams::last_seq, device_streams::acked_seq))
        .first::<(i64, i64)>(&mut conn.0)
        .optional()
        .db()?;
    let Some((last, acked)) = row else {
        return Ok(None);
    };
    let oldest = device_events::table
        .filter(device_events::device_id.eq(Id::from(device)))
        .select(diesel::dsl::min(device_events::seq))
        .first::<Option<i64>>(&mut conn.0)
        .db()?;
    Ok(Some(StreamState {
        last_seq: to_u64(last),
        acked_seq: to_u64(acked),
        oldest_seq: oldest.map(to_u64),
    }))
}

/// Up to `limit` events of the device's stream after `after`, in order.
pub fn read(
    conn: &mut DbConn,
    user: UserId,
    device: DeviceId,
    after: u64,
    limit: u32,
) -> StoreResult<Vec<StreamEvent>> {
    let rows = device_events::table
        .left_join(messages::table)
        .filter(device_events::device_id.eq(Id::from(device)))
        .filter(device_events::seq.gt(to_i64(after)))
        .order(device_events::seq.asc())
        .limit(i64::from(limit))
        .select((device_events::all_columns, messages::all_columns.nullable()))
        .load::<(EventRecord, Option<MessageRecord>)>(&mut conn.0)
        .db()?;
    // A message past its expiry is gone, even before the sweeper deletes it.
    let now = crate::now();
    let mut events: Vec<StreamEvent> = rows
        .into_iter()
        .filter_map(|(e, m)| {
            let m = m.filter(|m| m.expires_at.is_none_or(|t| t.get() > now));
            StreamEvent::from_records(e, m, user)
        })
        .collect();
    crate::games::attach_game_ids(conn, events.iter_mut().filter_map(|e| e.message.as_mut()))?;
    Ok(events)
}

/// Deletes, in one bounded pass, events that every session of their device
/// has had time to see: acknowledged events older than `acked_before`, and
/// any event older than `retained_after` (the undelivered retention). Returns
/// how many were deleted; call again while it returns `limit`.
pub fn sweep(
    conn: &mut DbConn,
    acked_before: DateTime<Utc>,
    retained_after: DateTime<Utc>,
    limit: u32,
) -> StoreResult<usize> {
    // Candidates first (index on created_at), then delete by primary key: the
    // same statements on both backends, bounded per pass.
    let candidates = device_events::table
        .inner_join(
            device_streams::table.on(device_streams::device_id.eq(device_events::device_id)),
        )
        .filter(
            device_events::created_at
                .lt(Ts::new(retained_after))
                .or(device_events::created_at
                    .lt(Ts::new(acked_before))
                    .and(device_events::seq.le(device_streams::acked_seq))),
        )
        .select((device_events::device_id, device_events::seq))
        .limit(i64::from(limit))
        .load::<(Id, i64)>(&mut conn.0)
        .db()?;
    delete_events(conn, &candidates)
}

/// Deletes the given `(device_id, seq)` events: one statement over arrays
/// on Postgres, row-value `IN` lists of a few hundred on SQLite.
fn delete_events(conn: &mut DbConn, keys: &[(Id, i64)]) -> StoreResult<usize> {
    use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
    if keys.is_empty() {
        return Ok(0);
    }
    match &mut conn.0 {
        crate::conn::AnyConnection::Postgresql(c) => {
            let devices: Vec<Uuid> = keys.iter().map(|k| k.0.0).collect();
            let seqs: Vec<i64> = keys.iter().map(|k| k.1).collect();
            diesel::sql_query(
                "DELETE FROM device_events AS e USING unnest($1, $2) AS d(device_id, seq) \
                 WHERE e.device_id = d.device_id AND e.seq = d.seq",
            )
            .bind::<Array<SqlUuid>, _>(devices)
            .bind::<Array<BigInt>, _>(seqs)
            .execute(c)
            .db()
        }
        crate::conn::AnyConnection::Sqlite(c) => {
            let mut deleted = 0;
            for chunk in keys.chunks(400) {
                let rows = vec!["(?, ?)"; chunk.len()].join(", ");
                let sql =
                    format!("DELETE FROM device_events WHERE (device_id, seq) IN (VALUES {rows})");
                let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
                for (device, seq) in chunk {
                    query = query
                        .bind::<crate::sql_types::DbUuid, _>(*device)
                        .bind::<BigInt, _>(*seq);
                }
                deleted += query.execute(c).db()?;
            }
            Ok(deleted)
        }
    }
}

pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Empties every stream event about the messages `ids` (server ids): their
/// copies and receipts become [`EventKind::Erased`], with no message, actor
/// or metadata left, keeping their place in each device's stream (deleting
/// them would leave holes that replay reports as retention). Retention
/// removes them later like any event. Returns how many were erased.
pub fn erase_message_events(conn: &mut DbConn, ids: &[Id]) -> StoreResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(10_000) {
        let chunk: Vec<Option<Id>> = chunk.iter().map(|i| Some(*i)).collect();
        n += diesel::update(device_events::table.filter(device_events::message_id.eq_any(&chunk)))
            .set((
                device_events::kind.eq(EventKind::Erased.code()),
                device_events::message_id.eq(None::<Id>),
                device_events::actor_user_id.eq(None::<Id>),
                device_events::actor_device_id.eq(None::<Id>),
                device_events::meta.eq(None::<String>),
            ))
            .execute(&mut conn.0)
            .db()?;
    }
    Ok(n)
}
