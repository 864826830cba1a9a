//! Per-device sends: a message whose sender addressed one entry (a blob
//! reference, for a registration number) to each device.
//!
//! In the batch's transaction, after routing, [`check`] compares each such
//! send's entries with the directory as it stands: the active devices of
//! every recipient and the sender's other devices (the sending device gets
//! none: it wrote the message). A device without an entry is *missing*, an
//! entry for a device that is not one of those is *extra*, and an entry
//! made for another registration number than the device's current one is
//! *stale*. Any of them refuses the send, with the three lists and nothing
//! stored. Entries for the devices of users the message is withheld from
//! (they block the sender, or declined its request) are dropped without a
//! word, and their devices are never missing: the refusal must not reveal
//! a block. One read of the devices of every user concerned for the whole
//! batch, one more only when some entry names a device that is not among
//! them.
//!
//! A matched send's entries are recorded in `message_entries` ([`insert`],
//! what blob downloads and retention read) and each device's event carries
//! its own entry (`device_events.meta`, what delivery reads).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;
use passerelle_domain::RegistrationId;
use serde::{Deserialize, Serialize};

use super::{Outcome, WriteOp};
use crate::conn::{DbConn, on_backend};
use crate::device_directory::owners;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{devices, message_entries};
use crate::sql_types::Id;
use crate::streams::MessageRow;
use crate::{DeviceId, UserId};

/// One entry of a per-device send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub device_id: DeviceId,
    /// The registration number the sender encrypted for.
    pub registration_id: u32,
    /// The blob holding this device's ciphertext.
    pub blob_id: String,
}

impl Entry {
    /// The stored form in the device's stream event (metadata only).
    pub(crate) fn to_meta(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a message event's stored entry.
    pub fn from_meta(meta: &str) -> Option<Entry> {
        serde_json::from_str(meta).ok()
    }
}

/// A device as the directory has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeviceRef {
    pub user: UserId,
    pub device: DeviceId,
    pub registration_id: RegistrationId,
}

/// Why a per-device send was refused; each list in (user, device) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Active devices the send has no entry for, with their current number.
    pub missing: Vec<DeviceRef>,
    /// Entries for devices that are not addressed (revoked, unknown, not a
    /// recipient's, or the sending device itself).
    pub extra: Vec<DeviceId>,
    /// Entries made for an old registration number: the current one.
    pub stale: Vec<DeviceRef>,
}

impl Mismatch {
    fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.stale.is_empty()
    }
}

/// The matched entries of each send (by index), by device.
pub(crate) type Matched = HashMap<usize, HashMap<DeviceId, Entry>>;

/// Checks the per-device sends of `routed`; refused ones get their outcome
/// and leave `routed`. `hidden` holds, per send, the users it is withheld
/// from.
pub(crate) fn check(
    conn: &mut DbConn,
    ops: &[WriteOp],
    routed: &mut Vec<(usize, MessageRow, Vec<UserId>)>,
    hidden: &HashMap<usize, Vec<UserId>>,
    outcomes: &mut [Option<Outcome>],
) -> StoreResult<Matched> {
    let mut matched = Matched::new();
    let with_entries: Vec<usize> = routed
        .iter()
        .filter(|(i, _, _)| {
            matches!(
                &ops[*i],
                WriteOp::Send {
                    entries: Some(_),
                    ..
                }
            )
        })
        .map(|(i, _, _)| *i)
        .collect();
    if with_entries.is_empty() {
        return Ok(matched);
    }
    let mut users: HashSet<UserId> = HashSet::new();
    for (i, message, recipients) in routed.iter() {
        if with_entries.contains(i) {
            users.insert(message.sender_id);
            users.extend(recipients.iter().copied());
            users.extend(hidden.get(i).into_iter().flatten().copied());
        }
    }
    let directory = registrations(conn, &users)?;
    let mut refused: HashSet<usize> = HashSet::new();
    for (i, message, recipients) in routed.iter() {
        let WriteOp::Send {
            entries: Some(entries),
            ..
        } = &ops[*i]
        else {
            continue;
        };
        // Addressed devices: the recipients' and the sender's others.
        let mut expected: BTreeMap<DeviceId, DeviceRef> = BTreeMap::new();
        for user in recipients.iter().chain(std::iter::once(&message.sender_id)) {
            for d in directory.get(user).into_iter().flatten() {
                if d.device != message.sender_device_id {
                    expected.insert(d.device, *d);
                }
            }
        }
        let withheld: HashSet<UserId> = hidden.get(i).into_iter().flatten().copied().collect();
        let mut mismatch = Mismatch::default();
        let mut mine: HashMap<DeviceId, Entry> = HashMap::new();
        let mut unknown: Vec<DeviceId> = Vec::new();
        for e in entries {
            match expected.get(&e.device_id) {
                Some(d) if d.registration_id.get() == e.registration_id => {
                    mine.insert(e.device_id, e.clone());
                }
                Some(d) => mismatch.stale.push(*d),
                None => {
                    let of_withheld = withheld.iter().any(|u| {
                        directory
                            .get(u)
                            .is_some_and(|list| list.iter().any(|d| d.device == e.device_id))
                    });
                    if !of_withheld {
                        unknown.push(e.device_id);
                    }
                }
            }
        }
        if !unknown.is_empty() {
            // A revoked device of a user the message is withheld from is
            // not reported either.
            let owner = if withheld.is_empty() {
                HashMap::new()
            } else {
                owners(conn, &unknown)?
            };
            mismatch.extra = unknown
                .into_iter()
                .filter(|d| owner.get(d).is_none_or(|u| !withheld.contains(u)))
                .collect();
        }
        let named: HashSet<DeviceId> = entries.iter().map(|e| e.device_id).collect();
        mismatch.missing = expected
            .values()
            .filter(|d| !named.contains(&d.device))
            .copied()
            .collect();
        if mismatch.is_empty() {
            matched.insert(*i, mine);
        } else {
            mismatch.missing.sort();
            mismatch.stale.sort();
            mismatch.extra.sort();
            outcomes[*i] = Some(Outcome::DeviceMismatch(mismatch));
            refused.insert(*i);
        }
    }
    routed.retain(|(i, _, _)| !refused.contains(i));
    Ok(matched)
}

/// The active devices of `users` with their registration numbers.
fn registrations(
    conn: &mut DbConn,
    users: &HashSet<UserId>,
) -> StoreResult<HashMap<UserId, Vec<DeviceRef>>> {
    let ids: Vec<Id> = users.iter().map(|u| Id::from(*u)).collect();
    let rows = on_backend!(conn, |c| devices::table
        .filter(devices::user_id.eq_any(&ids))
        .filter(devices::revoked_at.is_null())
        .select((devices::user_id, devices::id, devices::registration_id))
        .load::<(Id, Id, i32)>(c))
    .db()?;
    let mut out: HashMap<UserId, Vec<DeviceRef>> = HashMap::new();
    for (user, device, registration) in rows {
        let user = UserId::from(user);
        out.entry(user).or_default().push(DeviceRef {
            user,
            device: device.into(),
            registration_id: RegistrationId::from_stored(registration),
        });
    }
    Ok(out)
}

/// Records the matched entries of the stored messages.
pub(crate) fn insert(
    conn: &mut DbConn,
    routed: &[(usize, MessageRow, Vec<UserId>)],
    matched: &Matched,
) -> StoreResult<()> {
    let rows: Vec<(Id, Id, String)> = routed
        .iter()
        .filter_map(|(i, m, _)| matched.get(i).map(|e| (m, e)))
        .flat_map(|(m, entries)| {
            entries
                .values()
                .map(move |e| (Id(m.id), Id::from(e.device_id), e.blob_id.clone()))
        })
        .collect();
    for chunk in rows.chunks(super::INSERT_CHUNK / 2) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(m, d, b)| {
                (
                    message_entries::message_id.eq(*m),
                    message_entries::device_id.eq(*d),
                    message_entries::blob_id.eq(b.as_str()),
                )
            })
            .collect();
        on_backend!(conn, |c| diesel::insert_into(message_entries::table)
            .values(&values)
            .execute(c))
        .db()?;
    }
    Ok(())
}

/// The blob ids a send's entries carry.
pub(crate) fn blob_ids(op: &WriteOp) -> impl Iterator<Item = &str> {
    let entries = match op {
        WriteOp::Send {
            entries: Some(e), ..
        } => e.as_slice(),
        _ => &[],
    };
    entries.iter().map(|e| e.blob_id.as_str())
}
