//! Which acknowledged direct messages produce delivery receipts: none
//! between two users on either side of a block. A recipient who blocks the
//! sender never gets later messages (they are withheld), but may still
//! acknowledge one delivered before the block; a sender may message someone
//! they block. Either way the receipt would tell one of them about the
//! other's devices, which a block rules out (as for read events and the
//! aggregated receipts). One statement per batch that has such messages.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;

use super::Delivered;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::blocks;
use crate::sql_types::Id;
use crate::{DeviceId, UserId};

/// Drops from `candidates` the messages whose sender and acknowledging
/// user are on either side of a block.
pub(super) fn drop_blocked(
    conn: &mut DbConn,
    acks: &BTreeMap<DeviceId, (UserId, u64)>,
    candidates: &mut HashMap<DeviceId, Delivered>,
) -> StoreResult<()> {
    let mut pairs: HashSet<(UserId, UserId)> = HashSet::new();
    for (device, (_, list)) in candidates.iter() {
        let Some((acker, _)) = acks.get(device) else {
            continue;
        };
        pairs.extend(list.iter().map(|(_, m)| (*acker, m.sender_id)));
    }
    if pairs.is_empty() {
        return Ok(());
    }
    let ackers: Vec<Id> = pairs.iter().map(|(a, _)| Id::from(*a)).collect();
    let senders: Vec<Id> = pairs.iter().map(|(_, s)| Id::from(*s)).collect();
    let rows = on_backend!(conn, |c| blocks::table
        .filter(
            blocks::blocker_id
                .eq_any(&ackers)
                .and(blocks::blocked_id.eq_any(&senders))
                .or(blocks::blocker_id
                    .eq_any(&senders)
                    .and(blocks::blocked_id.eq_any(&ackers))),
        )
        .select((blocks::blocker_id, blocks::blocked_id))
        .load::<(Id, Id)>(c))
    .db()?;
    if rows.is_empty() {
        return Ok(());
    }
    let blocked: HashSet<(UserId, UserId)> = rows
        .into_iter()
        .flat_map(|(a, b)| {
            let (a, b) = (UserId::from(a), UserId::from(b));
            [(a, b), (b, a)]
        })
        .collect();
    for (device, (_, list)) in candidates.iter_mut() {
        if let Some((acker, _)) = acks.get(device) {
            list.retain(|(_, m)| !blocked.contains(&(*acker, m.sender_id)));
        }
    }
    Ok(())
}
