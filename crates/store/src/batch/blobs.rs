//! Blob references in a batch: a message's `blobId` must name a message or
//! attachment blob the gateway granted to its sender (so nobody can hand
//! others a download right to someone else's blob by naming it), not
//! doomed. [`check`] refuses the others ([`super::Outcome::BlobNotFound`])
//! before routing, with one read for the whole batch and none in a batch
//! without blobs; [`attach`] marks the blobs of the messages stored.

use super::{Outcome, WriteOp};
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
        .filter_map(|&i| match &ops[i] {
            WriteOp::Send { message, .. } => message
                .blob_id
                .as_ref()
                .map(|b| (i, b.clone(), message.sender_id)),
            _ => None,
        })
        .collect();
    if refs.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(String, UserId)> = refs.iter().map(|(_, b, u)| (b.clone(), *u)).collect();
    let ok = blobs::sendable(conn, &pairs)?;
    for (i, blob, sender) in refs {
        if !ok.contains(&(blob, sender)) {
            outcomes[i] = Some(Outcome::BlobNotFound);
            sends.retain(|s| *s != i);
        }
    }
    Ok(())
}

/// Marks the blobs of the stored messages attached.
pub(crate) fn attach(
    conn: &mut DbConn,
    routed: &[(usize, MessageRow, Vec<UserId>)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let ids: Vec<&str> = routed
        .iter()
        .filter_map(|(_, m, _)| m.blob_id.as_deref())
        .collect();
    blobs::attach(conn, &ids, now)
}
