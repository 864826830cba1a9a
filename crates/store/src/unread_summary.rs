//! The unread counts a session gets when it connects: the user's most
//! recently active conversations that have unread messages, at most
//! [`SUMMARY_MAX`], each with the exact (capped) count of
//! [`read_markers::unread`].
//!
//! One statement reads, for every membership of the user (its index on
//! `conversation_members (user_id, …)`), the read marker and the newest
//! message from someone else that the user may see (one backward probe of
//! `messages (conversation_id, id)` per conversation, through the filter of
//! `history::visible_to!` written out in SQL). A conversation whose newest
//! such message is past the marker has at least one unread message; the
//! most recent of those get one bounded count each. So a connect costs
//! one index probe per conversation of the user plus at most
//! [`SUMMARY_MAX`] counts of at most 1,001 rows: never a scan of history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Nullable;
use uuid::Uuid;

use crate::UserId;
use crate::conn::{AnyConnection, DbConn};
use crate::error::{DbResultExt, StoreResult};
use crate::read_markers::{self, Unread};
use crate::sql_types::{DbTimestamp, DbUuid, Id, Ts};

/// At most this many conversations are summed up on connect; the others
/// (less recently active) are in `GET /v1/conversations`.
pub const SUMMARY_MAX: usize = 50;

/// The summary: conversations with unread messages, most recently active
/// first, and whether more have some.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub conversations: Vec<(Uuid, Unread)>,
    pub more: bool,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = DbUuid)]
    conversation_id: Id,
    #[diesel(sql_type = DbTimestamp)]
    joined_at: Ts,
    #[diesel(sql_type = Nullable<DbUuid>)]
    marker: Option<Id>,
    #[diesel(sql_type = Nullable<DbUuid>)]
    newest: Option<Id>,
}

/// Binds `now` then the user, in that order; `{p1}`/`{p2}` become each
/// backend's placeholders. The subquery is `history::visible_to!` for a
/// message from someone else (whose `withheld` then always hides it).
const CANDIDATES: &str = "\
SELECT cm.conversation_id AS conversation_id, cm.joined_at AS joined_at, \
       rm.message_id AS marker, \
       (SELECT m.id FROM messages m \
         WHERE m.conversation_id = cm.conversation_id \
           AND m.sender_id <> cm.user_id \
           AND m.created_at >= cm.joined_at \
           AND NOT m.withheld \
           AND (m.expires_at IS NULL OR m.expires_at > {p1}) \
           AND NOT EXISTS (SELECT 1 FROM blocks b \
                            WHERE b.blocker_id = cm.user_id \
                              AND b.blocked_id = m.sender_id \
                              AND b.created_at <= m.created_at) \
         ORDER BY m.id DESC LIMIT 1) AS newest \
FROM conversation_members cm \
LEFT JOIN read_markers rm \
  ON rm.conversation_id = cm.conversation_id AND rm.user_id = cm.user_id \
WHERE cm.user_id = {p2}";

/// `user`'s unread summary at `now`.
pub fn summary(conn: &mut DbConn, user: UserId, now: DateTime<Utc>) -> StoreResult<Summary> {
    let (at, me) = (Ts::new(now), Id::from(user));
    let rows: Vec<Candidate> = match &mut conn.0 {
        AnyConnection::Postgresql(c) => {
            let sql = CANDIDATES.replace("{p1}", "$1").replace("{p2}", "$2");
            diesel::sql_query(sql)
                .bind::<DbTimestamp, _>(at)
                .bind::<DbUuid, _>(me)
                .load(c)
        }
        AnyConnection::Sqlite(c) => {
            let sql = CANDIDATES.replace("{p1}", "?").replace("{p2}", "?");
            diesel::sql_query(sql)
                .bind::<DbTimestamp, _>(at)
                .bind::<DbUuid, _>(me)
                .load(c)
        }
    }
    .db()?;
    // Unread for sure: the newest visible message from others is past the
    // marker (or there is one and no marker).
    let mut unread: Vec<(Uuid, DateTime<Utc>, Option<Uuid>, Uuid)> = rows
        .into_iter()
        .filter_map(|r| {
            let newest = r.newest?.0;
            let marker = r.marker.map(|m| m.0);
            marker.is_none_or(|m| newest > m).then_some((
                r.conversation_id.0,
                r.joined_at.get(),
                marker,
                newest,
            ))
        })
        .collect();
    unread.sort_by_key(|c| std::cmp::Reverse(c.3));
    let more = unread.len() > SUMMARY_MAX;
    unread.truncate(SUMMARY_MAX);
    let mut out = Summary {
        conversations: Vec::with_capacity(unread.len()),
        more,
    };
    for (conversation, joined, marker, _) in unread {
        let counted = read_markers::unread(conn, conversation, user, joined, marker)?;
        if counted.count > 0 {
            out.conversations.push((conversation, counted));
        }
    }
    Ok(out)
}
