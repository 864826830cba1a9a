//! Blob references in a batch: a message's `blobId`, and each blob of its
//! per-device entries, must name a message or attachment blob the gateway
//! granted to its sender (so nobody can hand
//! others a download right to someone else's blob by naming it), not
//! doomed. [`check`] refuses the others ([`super::Outcome::BlobNotFound`])
//! before routing, with one read for the whole batch and none in a batch
//! without blobs; [`attach`] marks the blobs of the messages stored.

use super::{Outcome, WriteOp, entries};
use crate::UserId;
use crate::blobs;
use crate::conn::DbConn;
use crate::error::StoreResult;
use crate::streams::MessageRow;
use chrono::{DateTime, Utc};

/// Takes out of `sends` the ones whose blob is not theirs to send.
pub(crate) fn check(
    conn: &mut DbConn,
    ops: &[WriteOp],
    sends: &mut Vec<usize>,
    outcomes: &mut [Option<Outcome>],
) -> StoreResult<()> {
    let refs: Vec<(usize, String, UserId)> = sends
        .iter()
        .flat_map(|&i| {
            let (own, sender) = match &ops[i] {
                WriteOp::Send { message, .. } => (message.blob_id.as_deref(), message.sender_id),
                WriteOp::Ack { user, .. } => (None, *user),
            };
            own.into_iter()
                .chain(entries::blob_ids(&ops[i]))
                .map(move |b| (i, b.to_owned(), sender))
        })
        .collect();
    if refs.is_empty() {
        return Ok(());
    }
    // Each blob once in the read (a sender may name one blob in many
    // entries and messages).
    let pairs: Vec<(String, UserId)> = refs
        .iter()
        .map(|(_, b, u)| (b.clone(), *u))
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    let ok = blobs::sendable(conn, &pairs)?;
    for (i, blob, sender) in refs {
        if !ok.contains(&(blob, sender)) && outcomes[i].is_none() {
            outcomes[i] = Some(Outcome::BlobNotFound);
            sends.retain(|s| *s != i);
        }
    }
    Ok(())
}

/// Marks the blobs of the stored messages (and of their matched entries)
/// attached.
pub(crate) fn attach(
    conn: &mut DbConn,
    routed: &[(usize, MessageRow, Vec<UserId>)],
    matched: &entries::Matched,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let ids: std::collections::HashSet<&str> = routed
        .iter()
        .flat_map(|(i, m, _)| {
            m.blob_id.as_deref().into_iter().chain(
                matched
                    .get(i)
                    .into_iter()
                    .flat_map(|e| e.values().map(|e| e.blob_id.as_str())),
            )
        })
        .collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    blobs::attach(conn, &ids, now)
}
