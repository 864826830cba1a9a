//! Delivery markers, moved by the acknowledgements of a batch: per member
//! and conversation, the server id of the newest message from someone else
//! that one of the member's devices acknowledged.
//!
//! One read per batch finds, for every acknowledging device's range, the
//! newest message per conversation (not one row per message: on Postgres
//! `DISTINCT ON`, on SQLite one cached statement per device whose rows are
//! folded here); one upsert per batch then moves each marker forward only
//! (`… ON CONFLICT DO UPDATE … WHERE message_id < excluded.message_id`),
//! in (conversation, user) order so two batches cannot deadlock on them.
//! The cost is one row per member and conversation an ack covers, whatever
//! the group's size: nothing is written per message or per other member.
//! The aggregate a sender reads (`receipts`) compares positions with these.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::upsert::excluded;
use uuid::Uuid;

use super::AckRange;
use crate::UserId;
use crate::conn::{AnyConnection, DbConn};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{delivery_markers, device_events, messages};
use crate::sql_types::Id;
use crate::streams::{EventKind, to_i64};

/// Where the batch moves markers to: (conversation, member) → server id.
pub(super) type Marks = BTreeMap<(Uuid, UserId), Uuid>;

/// The newest message from someone else per conversation in each range
/// (what the acknowledgements deliver), folded per member.
pub(super) fn up_to(conn: &mut DbConn, ranges: &[AckRange]) -> StoreResult<Marks> {
    let mut marks = Marks::new();
    let moving: Vec<&AckRange> = ranges.iter().filter(|r| r.to > r.from).collect();
    if moving.is_empty() {
        return Ok(marks);
    }
    let mut fold = |user: UserId, conversation: Uuid, id: Uuid| {
        let slot = marks.entry((conversation, user)).or_insert(id);
        *slot = (*slot).max(id);
    };
    match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            let query = super::pg::DeliveredUpTo {
                device_id: moving.iter().map(|r| r.device.0).collect(),
                user_id: moving.iter().map(|r| r.user.0).collect(),
                from_seq: moving.iter().map(|r| to_i64(r.from)).collect(),
                to_seq: moving.iter().map(|r| to_i64(r.to)).collect(),
            };
            for (user, conversation, id) in query.load::<(Id, Id, Id)>(c).db()? {
                fold(UserId::from(user), conversation.0, id.0);
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
                    .select((messages::conversation_id, messages::id))
                    .load::<(Option<Id>, Id)>(c)
                    .db()?;
                for (conversation, id) in rows {
                    if let Some(conversation) = conversation {
                        fold(r.user, conversation.0, id.0);
                    }
                }
            }
        }
    }
    Ok(marks)
}

/// Moves the markers forward to `marks` (never back), in key order.
pub(super) fn advance(conn: &mut DbConn, marks: &Marks) -> StoreResult<()> {
    if marks.is_empty() {
        return Ok(());
    }
    match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            super::pg::AdvanceDelivered {
                conversation_id: marks.keys().map(|(conv, _)| *conv).collect(),
                user_id: marks.keys().map(|(_, user)| user.0).collect(),
                message_id: marks.values().copied().collect(),
            }
            .execute(c)
            .db()?;
        }
        AnyConnection::Sqlite(c) => {
            // In process and under the writer lock: one short statement each.
            for ((conversation, user), id) in marks {
                let upsert = diesel::insert_into(delivery_markers::table)
                    .values((
                        delivery_markers::conversation_id.eq(Id(*conversation)),
                        delivery_markers::user_id.eq(Id::from(*user)),
                        delivery_markers::message_id.eq(Id(*id)),
                    ))
                    .on_conflict((delivery_markers::conversation_id, delivery_markers::user_id))
                    .do_update()
                    .set(delivery_markers::message_id.eq(excluded(delivery_markers::message_id)));
                // Only forward: `… DO UPDATE … WHERE message_id < excluded`.
                diesel::query_dsl::methods::FilterDsl::filter(
                    upsert,
                    delivery_markers::message_id.lt(excluded(delivery_markers::message_id)),
                )
                .execute(c)
                .db()?;
            }
        }
    }
    Ok(())
}
