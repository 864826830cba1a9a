//! Blobs on the gateway's side: the record of each blob-store object the
//! gateway granted an upload for (`blobs`: owner, purpose, size granted,
//! declared digest, when a message first referenced it, when it became
//! deletable). Never the bytes: those go from clients to the blob store
//! and back, and the gateway never touches them.
//!
//! - [`insert`] records an upload grant; [`find`] reads one.
//! - [`message_readable`] decides, from the messages that reference a
//!   blob, whether a user may download it (what they may read in history,
//!   through the same `history::visible_to!` filter); [`entry_readable`]
//!   whether a device may download a blob a per-device send addressed to
//!   it (only that device may).
//! - The send path checks that a message's `blobId` is the sender's own
//!   message or attachment blob and marks it attached (`batch::blobs`).
//! - [`doom_of_messages`] marks the blobs of messages being deleted
//!   (retraction, expiry, a deleted conversation), so the sweep deletes
//!   them from the blob store at once.
//! - [`due`] lists what the sweep must delete, [`forget`] drops the rows of
//!   blobs the blob store deleted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::history::visible_to;
use crate::schema::{
    blobs, blocks, conversation_members, device_events, device_streams, message_entries, messages,
    users,
};
use crate::sql_types::{Id, Ts};
use crate::{DeviceId, UserId};

/// What a blob is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The encrypted body of a message.
    Message,
    /// A file attached to a message.
    Attachment,
    /// A profile picture (readable by whoever may see the profile).
    Avatar,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Attachment => "attachment",
            Self::Avatar => "avatar",
        }
    }

    /// Reads the stored form; an unknown value (impossible under the CHECK)
    /// reads as `Message`, the most guarded kind.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "attachment" => Self::Attachment,
            "avatar" => Self::Avatar,
            _ => Self::Message,
        }
    }
}

/// One granted blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    pub id: String,
    pub owner: UserId,
    pub purpose: Purpose,
    pub max_bytes: u64,
    pub sha256: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attached_at: Option<DateTime<Utc>>,
    pub doomed_at: Option<DateTime<Utc>>,
}

type Record = (
    String,
    Id,
    String,
    i64,
    Option<String>,
    Ts,
    Option<Ts>,
    Option<Ts>,
);

const COLUMNS: (
    blobs::id,
    blobs::owner_id,
    blobs::purpose,
    blobs::max_bytes,
    blobs::sha256,
    blobs::created_at,
    blobs::attached_at,
    blobs::doomed_at,
) = (
    blobs::id,
    blobs::owner_id,
    blobs::purpose,
    blobs::max_bytes,
    blobs::sha256,
    blobs::created_at,
    blobs::attached_at,
    blobs::doomed_at,
);

fn row(r: Record) -> BlobRow {
    BlobRow {
        id: r.0,
        owner: r.1.into(),
        purpose: Purpose::from_stored(&r.2),
        max_bytes: u64::try_from(r.3).unwrap_or(0),
        sha256: r.4,
        created_at: r.5.get(),
        attached_at: r.6.map(Ts::get),
        doomed_at: r.7.map(Ts::get),
    }
}

/// Records an upload grant for a new blob id.
pub fn insert(
    conn: &mut DbConn,
    id: &str,
    owner: UserId,
    purpose: Purpose,
    max_bytes: u64,
    sha256: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::insert_into(blobs::table)
        .values((
            blobs::id.eq(id),
            blobs::owner_id.eq(Id::from(owner)),
            blobs::purpose.eq(purpose.as_str()),
            blobs::max_bytes.eq(i64::try_from(max_bytes).unwrap_or(i64::MAX)),
            blobs::sha256.eq(sha256),
            blobs::created_at.eq(Ts::new(now)),
        ))
        .execute(&mut conn.0)
        .db()?;
    Ok(())
}

/// The blob `id`, if the gateway granted it and it is not deleted yet.
pub fn find(conn: &mut DbConn, id: &str) -> StoreResult<Option<BlobRow>> {
    blobs::table
        .filter(blobs::id.eq(id))
        .select(COLUMNS)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(row))
}

/// Whether `viewer` may read a message or attachment blob `blob`: they own
/// it, or one of its owner's messages that references it is in a
/// conversation they are a member of and visible to them there (joined
/// before it, not withheld from them, not sent while they blocked its
/// sender, not expired). A retracted or expired message no longer grants
/// anything.
pub fn message_readable(
    conn: &mut DbConn,
    blob: &BlobRow,
    viewer: UserId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if blob.doomed_at.is_some() {
        return Ok(false);
    }
    if blob.owner == viewer {
        return Ok(true);
    }
    let me = Id::from(viewer);
    // The conversations of the owner's messages that carry the blob, where
    // the viewer is a member, with the viewer's join time.
    let memberships = messages::table
        .inner_join(
            conversation_members::table.on(conversation_members::conversation_id
                .nullable()
                .eq(messages::conversation_id)
                .and(conversation_members::user_id.eq(me))),
        )
        .filter(messages::blob_id.eq(&blob.id))
        .filter(messages::sender_id.eq(Id::from(blob.owner)))
        .select((
            conversation_members::conversation_id,
            conversation_members::joined_at,
        ))
        .distinct()
        .load::<(Id, Ts)>(&mut conn.0)
        .db()?;
    let now = Ts::new(now);
    for (conversation, joined) in memberships {
        let visible = diesel::select(diesel::dsl::exists(visible_to!(
            messages::table
                .filter(messages::blob_id.eq(&blob.id))
                .filter(messages::sender_id.eq(Id::from(blob.owner))),
            conversation.0,
            me,
            joined.get(),
            now
        )))
        .get_result::<bool>(&mut conn.0)
        .db()?;
        if visible {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `device` may read `blob` as the entry a per-device send of its
/// owner addressed to it: the message is still there (not retracted, not
/// expired) and the blob not doomed. No other device, not even another of
/// the same user, may: each device gets only its own entry.
pub fn entry_readable(
    conn: &mut DbConn,
    blob: &BlobRow,
    device: DeviceId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if blob.doomed_at.is_some() {
        return Ok(false);
    }
    let now = Ts::new(now);
    diesel::select(diesel::dsl::exists(
        message_entries::table
            .inner_join(messages::table)
            .filter(message_entries::blob_id.eq(&blob.id))
            .filter(message_entries::device_id.eq(Id::from(device)))
            .filter(messages::sender_id.eq(Id::from(blob.owner)))
            .filter(
                messages::expires_at
                    .is_null()
                    .or(messages::expires_at.gt(now)),
            ),
    ))
    .get_result::<bool>(&mut conn.0)
    .db()
}

/// Whether `blob` is the current avatar of its owner.
pub fn is_current_avatar(conn: &mut DbConn, blob: &BlobRow) -> StoreResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table
            .filter(users::id.eq(Id::from(blob.owner)))
            .filter(users::avatar_blob_id.eq(&blob.id)),
    ))
    .get_result::<bool>(&mut conn.0)
    .db()
}

/// Of `refs` (blob id, sender), those that name a message or attachment
/// blob of that sender that is not doomed: what a message may carry.
pub fn sendable(
    conn: &mut DbConn,
    refs: &[(String, UserId)],
) -> StoreResult<std::collections::HashSet<(String, UserId)>> {
    if refs.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let ids: Vec<&str> = refs.iter().map(|(b, _)| b.as_str()).collect();
    let rows = blobs::table
        .filter(blobs::id.eq_any(&ids))
        .filter(blobs::purpose.ne(Purpose::Avatar.as_str()))
        .filter(blobs::doomed_at.is_null())
        .select((blobs::id, blobs::owner_id))
        .load::<(String, Id)>(&mut conn.0)
        .db()?;
    Ok(rows.into_iter().map(|(b, o)| (b, o.into())).collect())
}

/// Marks `ids` attached at `now` (the first message that carries each was
/// just stored).
pub fn attach(conn: &mut DbConn, ids: &[&str], now: DateTime<Utc>) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        blobs::table
            .filter(blobs::id.eq_any(ids))
            .filter(blobs::attached_at.is_null()),
    )
    .set(blobs::attached_at.eq(Some(Ts::new(now))))
    .execute(&mut conn.0)
    .db()?;
    Ok(())
}

/// The messages `ids` (server ids) are being deleted: their blobs that no
/// other message references are doomed (deleted from the blob store by the
/// next sweep). Call in the deleting transaction, before the delete.
pub fn doom_of_messages(conn: &mut DbConn, ids: &[Id], now: DateTime<Utc>) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut carried: Vec<String> = messages::table
        .filter(messages::id.eq_any(ids))
        .filter(messages::blob_id.is_not_null())
        .select(messages::blob_id.assume_not_null())
        .distinct()
        .load::<String>(&mut conn.0)
        .db()?;
    carried.extend(
        message_entries::table
            .filter(message_entries::message_id.eq_any(ids))
            .select(message_entries::blob_id)
            .distinct()
            .load::<String>(&mut conn.0)
            .db()?,
    );
    if carried.is_empty() {
        return Ok(());
    }
    // Still referenced by a message that stays: not doomed.
    let mut kept: Vec<String> = messages::table
        .filter(messages::blob_id.eq_any(&carried))
        .filter(diesel::dsl::not(messages::id.eq_any(ids)))
        .select(messages::blob_id.assume_not_null())
        .distinct()
        .load::<String>(&mut conn.0)
        .db()?;
    kept.extend(
        message_entries::table
            .filter(message_entries::blob_id.eq_any(&carried))
            .filter(diesel::dsl::not(message_entries::message_id.eq_any(ids)))
            .select(message_entries::blob_id)
            .distinct()
            .load::<String>(&mut conn.0)
            .db()?,
    );
    let doomed: Vec<&str> = carried
        .iter()
        .filter(|b| !kept.contains(b))
        .map(String::as_str)
        .collect();
    diesel::update(
        blobs::table
            .filter(blobs::id.eq_any(&doomed))
            .filter(blobs::doomed_at.is_null()),
    )
    .set(blobs::doomed_at.eq(Some(Ts::new(now))))
    .execute(&mut conn.0)
    .db()?;
    Ok(())
}

/// Every blob of `owner` (an account being deleted) is doomed.
pub fn doom_of_owner(conn: &mut DbConn, owner: UserId, now: DateTime<Utc>) -> StoreResult<()> {
    diesel::update(
        blobs::table
            .filter(blobs::owner_id.eq(Id::from(owner)))
            .filter(blobs::doomed_at.is_null()),
    )
    .set(blobs::doomed_at.eq(Some(Ts::new(now))))
    .execute(&mut conn.0)
    .db()?;
    Ok(())
}

/// Why a blob is deleted (for metrics and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Its message was retracted, expired or its conversation deleted.
    Doomed,
    /// Granted but never sent (or an avatar never used or replaced) within
    /// the orphan grace.
    Orphan,
    /// Every device that got its message acknowledged it, and the grace
    /// after attachment passed.
    Delivered,
    /// Older than the retention limit.
    Retention,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Doomed => "doomed",
            Self::Orphan => "orphan",
            Self::Delivered => "delivered",
            Self::Retention => "retention",
        }
    }
}

/// When blobs become deletable.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Granted before this and never attached (or an avatar not in use).
    pub orphan_before: DateTime<Utc>,
    /// Attached before this and delivered to every device.
    pub delivered_before: DateTime<Utc>,
    /// Granted before this, whatever its state.
    pub retention_before: DateTime<Utc>,
}

/// Up to `limit` blobs to delete, with why, in that order: doomed, past
/// retention, orphans, delivered. Each step reads an index range; the
/// delivered step checks, per attached blob old enough, that no device
/// still has an unacknowledged copy of a message that carries it.
pub fn due(conn: &mut DbConn, d: Deadlines, limit: u32) -> StoreResult<Vec<(String, Reason)>> {
    let limit = i64::from(limit);
    let mut out: Vec<(String, Reason)> = Vec::new();
    let take = |ids: Vec<String>, reason: Reason, out: &mut Vec<(String, Reason)>| {
        for id in ids {
            if !out.iter().any(|(o, _)| *o == id) {
                out.push((id, reason));
            }
        }
    };
    let doomed = blobs::table
        .filter(blobs::doomed_at.is_not_null())
        .order(blobs::doomed_at.asc())
        .select(blobs::id)
        .limit(limit)
        .load::<String>(&mut conn.0)
        .db()?;
    take(doomed, Reason::Doomed, &mut out);
    let left = limit - out.len() as i64;
    if left > 0 {
        let old = blobs::table
            .filter(blobs::created_at.lt(Ts::new(d.retention_before)))
            .order(blobs::created_at.asc())
            .select(blobs::id)
            .limit(left)
            .load::<String>(&mut conn.0)
            .db()?;
        take(old, Reason::Retention, &mut out);
    }
    let left = limit - out.len() as i64;
    if left > 0 {
        let orphans = blobs::table
            .filter(blobs::created_at.lt(Ts::new(d.orphan_before)))
            .filter(
                blobs::attached_at
                    .is_null()
                    .and(blobs::purpose.ne(Purpose::Avatar.as_str()))
                    .or(blobs::purpose
                        .eq(Purpose::Avatar.as_str())
                        .and(diesel::dsl::not(diesel::dsl::exists(
                            users::table.filter(users::avatar_blob_id.eq(blobs::id.nullable())),
                        )))),
            )
            .order(blobs::created_at.asc())
            .select(blobs::id)
            .limit(left)
            .load::<String>(&mut conn.0)
            .db()?;
        take(orphans, Reason::Orphan, &mut out);
    }
    let left = limit - out.len() as i64;
    if left > 0 {
        // A copy still waits for an acknowledgement: an event of a message
        // carrying the blob past its device's acknowledged position.
        let pending = device_events::table
            .inner_join(
                device_streams::table.on(device_streams::device_id.eq(device_events::device_id)),
            )
            .inner_join(messages::table.on(messages::id.nullable().eq(device_events::message_id)))
            .filter(messages::blob_id.eq(blobs::id.nullable()))
            .filter(device_events::kind.eq(crate::streams::EventKind::Message.code()))
            .filter(device_events::seq.gt(device_streams::acked_seq));
        // Or a per-device entry of it waits for its device's.
        let entry_pending = message_entries::table
            .inner_join(
                device_events::table.on(device_events::message_id
                    .eq(message_entries::message_id.nullable())
                    .and(device_events::device_id.eq(message_entries::device_id))),
            )
            .inner_join(
                device_streams::table.on(device_streams::device_id.eq(message_entries::device_id)),
            )
            .filter(message_entries::blob_id.eq(blobs::id))
            .filter(device_events::kind.eq(crate::streams::EventKind::Message.code()))
            .filter(device_events::seq.gt(device_streams::acked_seq));
        let delivered = blobs::table
            .filter(blobs::attached_at.lt(Ts::new(d.delivered_before)))
            .filter(blobs::doomed_at.is_null())
            .filter(diesel::dsl::not(diesel::dsl::exists(pending)))
            .filter(diesel::dsl::not(diesel::dsl::exists(entry_pending)))
            .order(blobs::attached_at.asc())
            .select(blobs::id)
            .limit(left)
            .load::<String>(&mut conn.0)
            .db()?;
        take(delivered, Reason::Delivered, &mut out);
    }
    Ok(out)
}

/// Drops the rows of blobs the blob store deleted.
pub fn forget(conn: &mut DbConn, ids: &[String]) -> StoreResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(blobs::table.filter(blobs::id.eq_any(ids)))
        .execute(&mut conn.0)
        .db()
}

/// A fresh blob id: `b` and 32 hex digits of a random UUID (v4), in the
/// blob store's alphabet.
pub fn new_id() -> String {
    format!("b{}", Uuid::new_v4().simple())
}
