//! Writing the routing core's record: a batch of sends and acknowledgements
//! applied in one transaction, so that under load a node commits many
//! messages at once instead of one transaction per message.
//!
//! For a batch, [`apply`] (inside the caller's transaction):
//! 1. reads what already exists (idempotent resends, taken message ids,
//!    unknown recipients) and which devices are active;
//! 2. inserts the new messages (they need no sequence);
//! 3. locks the `device_streams` rows of every device it will touch, in
//!    device-id order (so concurrent batches on other nodes cannot
//!    deadlock), and allocates each device a contiguous run of sequences;
//! 4. inserts every device's events (over arrays on Postgres, multi-row on
//!    SQLite), moves acknowledged cursors, and writes a delivery receipt for
//!    each message a recipient device acknowledged, to each of the sender's
//!    devices (not between users on either side of a block:
//!    `receipt_blocks`). The locks are held from step 3 to the commit only.
//!    Before the locks, the acknowledging members' delivery markers move
//!    forward (`delivered`): one row per member and conversation acked.
//!
//! Every operation gets its own [`Outcome`]; one refused send does not fail
//! the others. Events a send causes besides its message (a message request
//! received or accepted, see `requests`) are appended in the same
//! transaction, just before the message, and returned with its outcome. A
//! `game_invite` is checked before routing and its invitation row written
//! with the message (`games`).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::{AnyConnection, DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{device_events, devices, messages, users};
use crate::sql_types::{Id, Ts};
use crate::streams::{EventKind, EventRecord, MessageRecord, MessageRow, StreamEvent, to_i64};
use crate::{DeviceId, UserId};

mod blobs;
mod cursors;
mod delivered;
mod entries;
mod games;
mod pg;
mod receipt_blocks;
mod requests;
mod route;

pub use entries::{DeviceRef, Entry, Mismatch};
pub use requests::Notice;

use route::Route;

/// One write of the routing core.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "short-lived, held in one Vec per batch; boxing would add an allocation per message"
)]
pub enum WriteOp {
    /// Store `message` and put it in the stream of every active device of
    /// the sender and of its recipients: a direct message has
    /// `recipients = [user]` and no conversation (the pair's direct
    /// conversation is found or created); a conversation message has its
    /// `conversation_id` set and `recipients` empty (the members are read in
    /// the batch). See [`route`] for blocks and replies.
    ///
    /// With `entries` (a per-device send), the entries must name exactly
    /// the active devices of the recipients and the sender's other
    /// devices, at their current registration numbers, or nothing is stored
    /// ([`Outcome::DeviceMismatch`]); each device's event then carries its
    /// own entry (see `entries`).
    Send {
        message: MessageRow,
        recipients: Vec<UserId>,
        entries: Option<Vec<Entry>>,
    },
    /// The device has processed its stream up to `seq`.
    Ack {
        user: UserId,
        device: DeviceId,
        seq: u64,
    },
}

/// What a batch needs from its caller besides the operations.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Writes the JSON payload (metadata only) of a [`Notice`] made at the
    /// given time; the gateway serialises the documented frame type.
    pub notice: fn(&Notice, DateTime<Utc>) -> String,
    /// How long a game invitation stays pending.
    pub game_invite_ttl: std::time::Duration,
}

/// A device stream entry created by a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub user: UserId,
    pub device: DeviceId,
    pub seq: u64,
    /// A per-device send's entry for this device.
    pub entry: Option<Entry>,
}

/// What happened to one [`WriteOp`].
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "short-lived, one per operation of a batch; boxing would add an allocation per message"
)]
pub enum Outcome {
    /// Stored (or already stored, when `duplicate`): `message` is the stored
    /// row; `deliveries` the new stream entries (empty for a duplicate);
    /// `sender_seq` the entry in the sending device's stream (0 when a
    /// duplicate's copy was already trimmed); `notices` the other events the
    /// send caused, to publish with it.
    Sent {
        message: MessageRow,
        deliveries: Vec<Delivery>,
        sender_seq: u64,
        duplicate: bool,
        notices: Vec<StreamEvent>,
    },
    /// A recipient does not exist.
    RecipientNotFound,
    /// The conversation does not exist, or the sender is not a member.
    ConversationNotFound,
    /// `reply_to` names no message of the conversation the sender can see.
    ReplyNotFound,
    /// The message id belongs to another sender's message.
    MessageIdTaken,
    /// A game invitation that is not for a direct conversation with
    /// another user.
    NotDirect,
    /// `blob_id` (or an entry's) names no message or attachment blob the
    /// gateway granted to the sender (or one whose message was deleted).
    BlobNotFound,
    /// A per-device send's entries do not match the directory: nothing was
    /// stored; the sender fixes its sessions and resends the same id.
    DeviceMismatch(Mismatch),
    /// The acknowledged cursor is now `acked_seq`; `receipts` are the
    /// receipt events written to the senders' devices.
    Acked {
        acked_seq: u64,
        receipts: Vec<StreamEvent>,
    },
}

/// Rows a SQLite batch insert sends per statement (below its bind limit).
const INSERT_CHUNK: usize = 2000;

/// Applies `ops` in the caller's transaction; one outcome per op, in order.
pub fn apply(
    conn: &mut DbConn,
    ops: &[WriteOp],
    now: DateTime<Utc>,
    rules: &Rules,
) -> StoreResult<Vec<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; ops.len()];
    let mut sends = classify_sends(conn, ops, &mut outcomes)?;
    let invitees = games::check(conn, ops, &mut sends, &mut outcomes)?;
    blobs::check(conn, ops, &mut sends, &mut outcomes)?;
    entries::rehearse(conn, ops, &mut sends, now, &mut outcomes)?;

    // Where each new message goes: the stored row (with its conversation)
    // and the users besides the sender who get it; the events sends cause.
    let (mut routes, caused) = route::resolve(conn, ops, &sends, now)?;
    let mut notes: HashMap<usize, Vec<Note>> = caused
        .into_iter()
        .map(|(i, list)| (i, list.iter().map(|n| note(n, now, rules)).collect()))
        .collect();
    let mut routed: Vec<(usize, MessageRow, Vec<UserId>)> = Vec::new();
    let mut hidden_of: HashMap<usize, Vec<UserId>> = HashMap::new();
    for &i in &sends {
        let WriteOp::Send { message, .. } = &ops[i] else {
            continue;
        };
        match routes.remove(&i) {
            Some(Route::Deliver {
                conversation,
                recipients,
                hidden,
                withheld,
                disappear_secs,
                peer,
            }) => {
                if !hidden.is_empty() {
                    hidden_of.insert(i, hidden);
                }
                let mut row = message.clone();
                row.conversation_id = Some(conversation);
                row.withheld = withheld;
                // Set on every direct message, however it was addressed:
                // delivery receipts are for direct messages only.
                row.recipient_id = row.recipient_id.or(peer);
                row.expires_at =
                    disappear_secs.map(|s| now + chrono::Duration::seconds(i64::from(s)));
                // Stored now: the same instant as a direct conversation
                // created for it (its members' `joined_at`, which bounds
                // their history).
                row.created_at = now;
                routed.push((i, row, recipients));
            }
            Some(Route::BadReply) => outcomes[i] = Some(Outcome::ReplyNotFound),
            Some(Route::NoConversation) | None => {
                outcomes[i] = Some(Outcome::ConversationNotFound);
            }
        }
    }

    // Per-device sends: checked against the directory; refused ones leave
    // `routed`.
    let mut entries_of = entries::check(conn, ops, &mut routed, &hidden_of, &mut outcomes)?;

    // Active devices of everyone a new message goes to.
    let mut users_needed: HashSet<UserId> = HashSet::new();
    for (_, message, recipients) in &routed {
        users_needed.insert(message.sender_id);
        users_needed.extend(recipients.iter().copied());
    }
    users_needed.extend(
        notes
            .values()
            .flatten()
            .flat_map(|n| n.users.iter().copied()),
    );
    let mut devices_of = active_devices(conn, &users_needed)?;

    // Acknowledgements: coalesce per device and find what they deliver
    // before locking anything. A client only acknowledges events it has
    // seen, which were committed before it saw them, so the range read here
    // (clamped to the stream's end as of now) is complete; under the lock it
    // can only shrink (another session of the device may have acknowledged
    // part of it meanwhile).
    let acks = coalesce_acks(ops);
    let ack_devices: HashSet<DeviceId> = acks.keys().copied().collect();
    let before = cursors::read(conn, &ack_devices)?;
    let mut ranges: Vec<AckRange> = Vec::new();
    for (device, (user, seq)) in &acks {
        let Some(cursor) = before.get(device) else {
            continue;
        };
        ranges.push(AckRange {
            user: *user,
            device: *device,
            from: cursor.acked_seq,
            to: (*seq).min(cursor.last_seq),
        });
    }
    let mut candidates = newly_delivered(conn, &ranges)?;
    receipt_blocks::drop_blocked(conn, &acks, &mut candidates)?;
    let marks = delivered::up_to(conn, &ranges)?;
    let senders: HashSet<UserId> = candidates
        .values()
        .flat_map(|(_, ms)| ms.iter().map(|(_, m)| m.sender_id))
        .filter(|s| !devices_of.contains_key(s))
        .collect();
    devices_of.extend(active_devices(conn, &senders)?);

    // Lock every touched stream, in device order, in one statement.
    let mut touched: HashSet<DeviceId> = ack_devices.clone();
    for (_, message, recipients) in &routed {
        for user in recipients.iter().chain(std::iter::once(&message.sender_id)) {
            touched.extend(devices_of.get(user).into_iter().flatten().copied());
        }
    }
    for (_, ms) in candidates.values() {
        for (_, m) in ms {
            touched.extend(devices_of.get(&m.sender_id).into_iter().flatten().copied());
        }
    }
    for user in notes.values().flatten().flat_map(|n| n.users.iter()) {
        touched.extend(devices_of.get(user).into_iter().flatten().copied());
    }
    // The messages need no sequence: insert them before taking the locks,
    // so the locks are held only for the events, the cursors and the commit.
    let new_messages: Vec<MessageRecord> = routed
        .iter()
        .map(|(_, message, _)| MessageRecord::from(message))
        .collect();
    insert_messages(conn, &new_messages)?;
    entries::insert(conn, &routed, &entries_of)?;
    games::insert(conn, &routed, &invitees, rules.game_invite_ttl, now)?;
    blobs::attach(conn, &routed, &entries_of, now)?;
    // Delivery markers need no sequence either. The range read above may
    // have been acknowledged meanwhile by another session of the device:
    // the markers then move to where they already stand.
    delivered::advance(conn, &marks)?;
    let mut cursors = cursors::lock(conn, &touched)?;

    // Move the acknowledged cursors; keep the messages still newly delivered.
    let mut acked_messages: Vec<(UserId, DeviceId, MessageRow)> = Vec::new();
    let mut new_acked: HashMap<DeviceId, u64> = HashMap::new();
    for (device, (target, delivered)) in candidates {
        let Some(cursor) = cursors.get_mut(&device) else {
            continue;
        };
        let Some((user, _)) = acks.get(&device) else {
            continue;
        };
        if target > cursor.acked_seq {
            for (seq, m) in delivered {
                if seq > cursor.acked_seq {
                    acked_messages.push((*user, device, m));
                }
            }
            cursor.acked_seq = target;
        }
        new_acked.insert(device, cursor.acked_seq);
    }

    // Allocate sequences and build the rows.
    let mut events: Vec<EventRecord> = Vec::new();
    let ts = Ts::new(now);
    for (i, message, recipients) in routed {
        let mut notices = Vec::new();
        for n in notes.remove(&i).unwrap_or_default() {
            notices.extend(note_events(&n, &devices_of, &mut cursors, &mut events, now));
        }
        let mut deliveries = Vec::new();
        let mut seen = HashSet::new();
        let mut own_entries = entries_of.remove(&i);
        for user in std::iter::once(&message.sender_id).chain(recipients.iter()) {
            for device in devices_of.get(user).into_iter().flatten() {
                if !seen.insert(*device) {
                    continue;
                }
                let Some(cursor) = cursors.get_mut(device) else {
                    continue;
                };
                cursor.last_seq += 1;
                let entry = own_entries.as_mut().and_then(|m| m.remove(device));
                let mut record = event_record(
                    *device,
                    cursor.last_seq,
                    EventKind::Message,
                    message.id,
                    None,
                    ts,
                );
                record.meta = entry.as_ref().map(Entry::to_meta);
                events.push(record);
                deliveries.push(Delivery {
                    user: *user,
                    device: *device,
                    seq: cursor.last_seq,
                    entry,
                });
            }
        }
        let sender_seq = deliveries
            .iter()
            .find(|d| d.device == message.sender_device_id)
            .map_or(0, |d| d.seq);
        outcomes[i] = Some(Outcome::Sent {
            message,
            deliveries,
            sender_seq,
            duplicate: false,
            notices,
        });
    }
    let mut receipts_for: HashMap<DeviceId, Vec<StreamEvent>> = HashMap::new();
    for (acker_user, acker_device, m) in &acked_messages {
        for device in devices_of.get(&m.sender_id).into_iter().flatten() {
            let Some(cursor) = cursors.get_mut(device) else {
                continue;
            };
            cursor.last_seq += 1;
            events.push(event_record(
                *device,
                cursor.last_seq,
                EventKind::Receipt,
                m.id,
                Some((*acker_user, *acker_device)),
                ts,
            ));
            receipts_for
                .entry(*acker_device)
                .or_default()
                .push(StreamEvent {
                    device_id: *device,
                    user_id: m.sender_id,
                    seq: cursor.last_seq,
                    kind: EventKind::Receipt,
                    message: Some(m.clone()),
                    payload: None,
                    actor_user_id: Some(*acker_user),
                    actor_device_id: Some(*acker_device),
                    created_at: now,
                });
        }
    }

    insert_events(conn, &events)?;
    cursors::store(conn, &cursors)?;

    for (i, op) in ops.iter().enumerate() {
        if let WriteOp::Ack { device, .. } = op {
            outcomes[i] = Some(Outcome::Acked {
                acked_seq: new_acked.get(device).copied().unwrap_or(0),
                receipts: receipts_for.remove(device).unwrap_or_default(),
            });
        }
    }
    resolve_in_batch_duplicates(ops, &mut outcomes);
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::RecipientNotFound))
        .collect())
}

fn event_record(
    device: DeviceId,
    seq: u64,
    kind: EventKind,
    message: Uuid,
    actor: Option<(UserId, DeviceId)>,
    created_at: Ts,
) -> EventRecord {
    EventRecord {
        device_id: device.into(),
        seq: to_i64(seq),
        kind: kind.code(),
        message_id: Some(Id(message)),
        actor_user_id: actor.map(|(u, _)| u.into()),
        actor_device_id: actor.map(|(_, d)| d.into()),
        created_at,
        meta: None,
    }
}

/// Decides each send: already stored (idempotent resend or a taken id), an
/// unknown recipient, a repeat within the batch, or new. Returns the indexes
/// of the new ones.
fn classify_sends(
    conn: &mut DbConn,
    ops: &[WriteOp],
    outcomes: &mut [Option<Outcome>],
) -> StoreResult<Vec<usize>> {
    let ids: Vec<Id> = ops
        .iter()
        .filter_map(|op| match op {
            WriteOp::Send { message, .. } => Some(Id(message.message_id)),
            WriteOp::Ack { .. } => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let existing: HashMap<Uuid, MessageRow> = on_backend!(conn, |c| messages::table
        .filter(messages::message_id.eq_any(&ids))
        .select(messages::all_columns)
        .load::<MessageRecord>(c))
    .db()?
    .into_iter()
    .map(|r| {
        let row = MessageRow::from(r);
        (row.message_id, row)
    })
    .collect();
    let recipient_ids: HashSet<UserId> = ops
        .iter()
        .filter_map(|op| match op {
            WriteOp::Send { recipients, .. } => Some(recipients.iter().copied()),
            WriteOp::Ack { .. } => None,
        })
        .flatten()
        .collect();
    let known = existing_users(conn, &recipient_ids)?;

    let mut new = Vec::new();
    let mut first_of: HashSet<Uuid> = HashSet::new();
    for (i, op) in ops.iter().enumerate() {
        let WriteOp::Send {
            message,
            recipients,
            ..
        } = op
        else {
            continue;
        };
        if let Some(stored) = existing.get(&message.message_id) {
            outcomes[i] = Some(if stored.sender_id == message.sender_id {
                let sender_seq = sender_copy_seq(conn, stored)?;
                Outcome::Sent {
                    message: stored.clone(),
                    deliveries: Vec::new(),
                    sender_seq,
                    duplicate: true,
                    notices: Vec::new(),
                }
            } else {
                Outcome::MessageIdTaken
            });
        } else if !recipients.iter().all(|r| known.contains(r)) {
            outcomes[i] = Some(Outcome::RecipientNotFound);
        } else if first_of.insert(message.message_id) {
            new.push(i);
        }
        // A repeat of an id within the batch stays undecided here and gets
        // the first one's outcome in `resolve_in_batch_duplicates`.
    }
    Ok(new)
}

/// A repeat of a message id within one batch gets the first one's outcome
/// (as a duplicate), or `MessageIdTaken` if another sender used it.
fn resolve_in_batch_duplicates(ops: &[WriteOp], outcomes: &mut [Option<Outcome>]) {
    let mut first: HashMap<Uuid, (UserId, MessageRow, u64)> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        let WriteOp::Send { message, .. } = op else {
            continue;
        };
        match &outcomes[i] {
            Some(Outcome::Sent {
                message: stored,
                sender_seq,
                duplicate: false,
                ..
            }) => {
                first.insert(
                    message.message_id,
                    (message.sender_id, stored.clone(), *sender_seq),
                );
            }
            Some(_) => {}
            None => {
                outcomes[i] = Some(match first.get(&message.message_id) {
                    Some((sender, stored, seq)) if *sender == message.sender_id => Outcome::Sent {
                        message: stored.clone(),
                        deliveries: Vec::new(),
                        sender_seq: *seq,
                        duplicate: true,
                        notices: Vec::new(),
                    },
                    _ => Outcome::MessageIdTaken,
                });
            }
        }
    }
}

fn sender_copy_seq(conn: &mut DbConn, m: &MessageRow) -> StoreResult<u64> {
    let seq = device_events::table
        .filter(device_events::device_id.eq(Id::from(m.sender_device_id)))
        .filter(device_events::message_id.eq(Some(Id(m.id))))
        .filter(device_events::kind.eq(EventKind::Message.code()))
        .select(device_events::seq)
        .first::<i64>(&mut conn.0)
        .optional()
        .db()?;
    Ok(seq.map_or(0, crate::streams::to_u64))
}

fn existing_users(conn: &mut DbConn, ids: &HashSet<UserId>) -> StoreResult<HashSet<UserId>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<Id> = ids.iter().map(|u| Id::from(*u)).collect();
    let found = on_backend!(conn, |c| users::table
        .filter(users::id.eq_any(&ids))
        .select(users::id)
        .load::<Id>(c))
    .db()?;
    Ok(found.into_iter().map(UserId::from).collect())
}

/// Active devices of `users`, in creation order.
fn active_devices(
    conn: &mut DbConn,
    users: &HashSet<UserId>,
) -> StoreResult<HashMap<UserId, Vec<DeviceId>>> {
    let mut out: HashMap<UserId, Vec<DeviceId>> = HashMap::new();
    if users.is_empty() {
        return Ok(out);
    }
    let ids: Vec<Id> = users.iter().map(|u| Id::from(*u)).collect();
    let rows = on_backend!(conn, |c| devices::table
        .filter(devices::user_id.eq_any(&ids))
        .filter(devices::revoked_at.is_null())
        .order((devices::created_at.asc(), devices::id.asc()))
        .select((devices::user_id, devices::id))
        .load::<(Id, Id)>(c))
    .db()?;
    for (user, device) in rows {
        out.entry(user.into()).or_default().push(device.into());
    }
    Ok(out)
}

/// The highest acknowledged sequence per device (the last ack wins if the
/// batch holds several, since acks are cumulative).
fn coalesce_acks(ops: &[WriteOp]) -> BTreeMap<DeviceId, (UserId, u64)> {
    let mut acks: BTreeMap<DeviceId, (UserId, u64)> = BTreeMap::new();
    for op in ops {
        if let WriteOp::Ack { user, device, seq } = op {
            let entry = acks.entry(*device).or_insert((*user, *seq));
            entry.1 = entry.1.max(*seq);
        }
    }
    acks
}

/// One acknowledging device's range: from its cursor (exclusive) to what
/// it acknowledged, clamped to its stream's end (inclusive).
struct AckRange {
    user: UserId,
    device: DeviceId,
    from: u64,
    to: u64,
}

/// An acknowledgement's target sequence and the messages it delivers,
/// with their sequence.
type Delivered = (u64, Vec<(u64, MessageRow)>);

/// Per acknowledging device: the acknowledged target and the messages from
/// other users in its range, with their sequence (what the acknowledgement
/// delivers). On Postgres one statement for all devices; on SQLite one
/// cached in-process statement per device.
fn newly_delivered(
    conn: &mut DbConn,
    ranges: &[AckRange],
) -> StoreResult<HashMap<DeviceId, Delivered>> {
    let mut out: HashMap<DeviceId, Delivered> = ranges
        .iter()
        .map(|r| (r.device, (r.to, Vec::new())))
        .collect();
    let moving: Vec<&AckRange> = ranges.iter().filter(|r| r.to > r.from).collect();
    if moving.is_empty() {
        return Ok(out);
    }
    match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            let query = pg::NewlyDelivered {
                device_id: moving.iter().map(|r| r.device.0).collect(),
                user_id: moving.iter().map(|r| r.user.0).collect(),
                from_seq: moving.iter().map(|r| to_i64(r.from)).collect(),
                to_seq: moving.iter().map(|r| to_i64(r.to)).collect(),
            };
            for (device, seq, m) in pg::newly_delivered(c, query).db()? {
                if let Some((_, list)) = out.get_mut(&DeviceId::from(device)) {
                    list.push((crate::streams::to_u64(seq), MessageRow::from(m)));
                }
            }
        }
        AnyConnection::Sqlite(c) => {
            for r in moving {
                let rows = device_events::table
                    .inner_join(messages::table)
                    .filter(device_events::device_id.eq(Id::from(r.device)))
                    .filter(device_events::seq.gt(to_i64(r.from)))
                    .filter(device_events::seq.le(to_i64(r.to)))
                    .filter(device_events::kind.eq(EventKind::Message.code()))
                    .filter(messages::sender_id.ne(Id::from(r.user)))
                    .filter(messages::recipient_id.is_not_null())
                    .order(device_events::seq.asc())
                    .select((device_events::seq, messages::all_columns))
                    .load::<(i64, MessageRecord)>(c)
                    .db()?;
                if let Some((_, list)) = out.get_mut(&r.device) {
                    list.extend(
                        rows.into_iter()
                            .map(|(seq, m)| (crate::streams::to_u64(seq), MessageRow::from(m))),
                    );
                }
            }
        }
    }
    Ok(out)
}

fn insert_messages(conn: &mut DbConn, rows: &[MessageRecord]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            pg::InsertMessages::new(rows).execute(c).db()?;
        }
        AnyConnection::Sqlite(c) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(messages::table)
                    .values(chunk)
                    .execute(c)
                    .db()?;
            }
        }
    }
    Ok(())
}

fn insert_events(conn: &mut DbConn, rows: &[EventRecord]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            pg::InsertEvents::new(rows).execute(c).db()?;
        }
        AnyConnection::Sqlite(c) => {
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(device_events::table)
                    .values(chunk)
                    .execute(c)
                    .db()?;
            }
        }
    }
    Ok(())
}

/// An event to put in the stream of every active device of `users`.
#[derive(Debug, Clone)]
pub struct Note {
    pub users: Vec<UserId>,
    pub kind: EventKind,
    /// JSON metadata (never content).
    pub payload: String,
}

/// Appends `notes` to their users' device streams inside the caller's
/// transaction (locking the streams in device order, like a batch) and
/// returns the new events, to publish after the commit. Used for the events
/// that are not messages: membership changes and the like.
pub fn append(
    conn: &mut DbConn,
    notes: &[Note],
    now: DateTime<Utc>,
) -> StoreResult<Vec<StreamEvent>> {
    append_except(conn, notes, &[], now)
}

/// As [`append`], but not to the devices `except` (e.g. the device a
/// device-list event is about: it knows).
pub fn append_except(
    conn: &mut DbConn,
    notes: &[Note],
    except: &[DeviceId],
    now: DateTime<Utc>,
) -> StoreResult<Vec<StreamEvent>> {
    let users: HashSet<UserId> = notes.iter().flat_map(|n| n.users.iter().copied()).collect();
    let devices_of = active_devices(conn, &users)?;
    // A device without a locked cursor gets no event (`note_events`).
    let touched: HashSet<DeviceId> = devices_of
        .values()
        .flatten()
        .filter(|d| !except.contains(d))
        .copied()
        .collect();
    let mut cursors = cursors::lock(conn, &touched)?;
    let mut records = Vec::new();
    let mut out = Vec::new();
    for note in notes {
        out.extend(note_events(
            note,
            &devices_of,
            &mut cursors,
            &mut records,
            now,
        ));
    }
    insert_events(conn, &records)?;
    cursors::store(conn, &cursors)?;
    Ok(out)
}

/// A [`Notice`] as a `conversation` note for its users.
fn note(n: &Notice, now: DateTime<Utc>, rules: &Rules) -> Note {
    Note {
        users: n.users(),
        kind: EventKind::Conversation,
        payload: (rules.notice)(n, now),
    }
}

/// Allocates `note`'s event on every active device of its users (locked in
/// `cursors`), adds the rows to `records`, and returns the events.
fn note_events(
    note: &Note,
    devices_of: &HashMap<UserId, Vec<DeviceId>>,
    cursors: &mut HashMap<DeviceId, cursors::Cursor>,
    records: &mut Vec<EventRecord>,
    now: DateTime<Utc>,
) -> Vec<StreamEvent> {
    let ts = Ts::new(now);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for user in &note.users {
        for device in devices_of.get(user).into_iter().flatten() {
            if !seen.insert(*device) {
                continue;
            }
            let Some(cursor) = cursors.get_mut(device) else {
                continue;
            };
            cursor.last_seq += 1;
            records.push(EventRecord {
                device_id: (*device).into(),
                seq: to_i64(cursor.last_seq),
                kind: note.kind.code(),
                message_id: None,
                actor_user_id: None,
                actor_device_id: None,
                created_at: ts,
                meta: Some(note.payload.clone()),
            });
            out.push(StreamEvent {
                device_id: *device,
                user_id: *user,
                seq: cursor.last_seq,
                kind: note.kind,
                message: None,
                payload: Some(note.payload.clone()),
                actor_user_id: None,
                actor_device_id: None,
                created_at: now,
            });
        }
    }
    out
}
