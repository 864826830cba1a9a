//! Per-device sends: a message whose sender addressed one entry (a blob
//! reference, for a registration number) to each device.
//!
//! In the batch's transaction, each such send's entries are compared with
//! the directory as it stands: the active devices of every recipient and
//! the sender's other devices (the sending device gets none: it wrote the
//! message). A device without an entry is *missing*, an entry for a device
//! that is not one of those is *extra*, and an entry made for another
//! registration number than the device's current one is *stale*. Any of
//! them refuses the send, with the three lists and nothing stored. Entries
//! for the devices of users the message is withheld from (they block the
//! sender, or declined its request) are dropped without a word, and their
//! devices are never missing: the refusal must not reveal a block.
//!
//! Routing has side effects a refused send must not leave behind (a new
//! pair's direct conversation and message request, a request accepted by
//! its addressee's reply), so [`rehearse`] routes the per-device sends
//! first in a savepoint that is always rolled back and refuses the
//! mismatched ones before the real routing; [`check`] compares again after
//! it, in case a concurrent change landed in between. Each comparison is
//! one read of the devices of every user concerned for the whole batch,
//! one more only when some entry names a device that is not among them.
//!
//! A matched send's entries are recorded in `message_entries` ([`insert`],
//! what blob downloads and retention read) and each device's event carries
//! its own entry (`device_events.meta`, what delivery reads).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;
use passerelle_domain::RegistrationId;
use serde::{Deserialize, Serialize};

use super::route::{self, Route};
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

/// One routed per-device send to compare with the directory.
struct Addressed<'a> {
    index: usize,
    sender: UserId,
    sending_device: DeviceId,
    recipients: &'a [UserId],
    /// Users it is withheld from (their devices are not addressed).
    withheld: &'a [UserId],
    entries: &'a [Entry],
}

/// Refuses, before anything is written, the per-device sends of `sends`
/// whose entries do not match: routing creates a new pair's direct
/// conversation (and its message request) and applies a request's
/// acceptance, which a refused send must not leave behind. So the
/// per-device sends are routed once in a savepoint that is rolled back,
/// compared, and the refused ones leave `sends` with their outcome. The
/// real pass compares again ([`check`]), in case a concurrent change
/// landed in between.
pub(crate) fn rehearse(
    conn: &mut DbConn,
    ops: &[WriteOp],
    sends: &mut Vec<usize>,
    now: chrono::DateTime<chrono::Utc>,
    outcomes: &mut [Option<Outcome>],
) -> StoreResult<()> {
    let with_entries: Vec<usize> = sends
        .iter()
        .copied()
        .filter(|i| {
            matches!(
                &ops[*i],
                WriteOp::Send {
                    entries: Some(_),
                    ..
                }
            )
        })
        .collect();
    if with_entries.is_empty() {
        return Ok(());
    }
    let refused = conn.rehearse(|c| {
        let (routes, _) = route::resolve(c, ops, &with_entries, now)?;
        let items: Vec<Addressed<'_>> = with_entries
            .iter()
            .filter_map(|i| match (&ops[*i], routes.get(i)) {
                (
                    WriteOp::Send {
                        message,
                        entries: Some(entries),
                        ..
                    },
                    Some(Route::Deliver {
                        recipients, hidden, ..
                    }),
                ) => Some(Addressed {
                    index: *i,
                    sender: message.sender_id,
                    sending_device: message.sender_device_id,
                    recipients,
                    withheld: hidden,
                    entries,
                }),
                _ => None,
            })
            .collect();
        compare(c, &items).map(|(_, refused)| refused)
    })?;
    for (i, mismatch) in refused {
        outcomes[i] = Some(Outcome::DeviceMismatch(mismatch));
        sends.retain(|s| *s != i);
    }
    Ok(())
}

/// Checks the per-device sends of `routed` (the real pass); refused ones
/// get their outcome and leave `routed`. `hidden` holds, per send, the
/// users it is withheld from.
pub(crate) fn check(
    conn: &mut DbConn,
    ops: &[WriteOp],
    routed: &mut Vec<(usize, MessageRow, Vec<UserId>)>,
    hidden: &HashMap<usize, Vec<UserId>>,
    outcomes: &mut [Option<Outcome>],
) -> StoreResult<Matched> {
    let items: Vec<Addressed<'_>> = routed
        .iter()
        .filter_map(|(i, message, recipients)| match &ops[*i] {
            WriteOp::Send {
                entries: Some(entries),
                ..
            } => Some(Addressed {
                index: *i,
                sender: message.sender_id,
                sending_device: message.sender_device_id,
                recipients,
                withheld: hidden.get(i).map_or(&[], Vec::as_slice),
                entries,
            }),
            _ => None,
        })
        .collect();
    if items.is_empty() {
        return Ok(Matched::new());
    }
    let (matched, refused) = compare(conn, &items)?;
    let refused: HashMap<usize, Mismatch> = refused.into_iter().collect();
    routed.retain(|(i, _, _)| !refused.contains_key(i));
    for (i, mismatch) in refused {
        outcomes[i] = Some(Outcome::DeviceMismatch(mismatch));
    }
    Ok(matched)
}

/// Compares each send's entries with the directory: the matched entries of
/// the sends that match, and the mismatch of those that do not.
fn compare(
    conn: &mut DbConn,
    items: &[Addressed<'_>],
) -> StoreResult<(Matched, Vec<(usize, Mismatch)>)> {
    let mut matched = Matched::new();
    let mut refused = Vec::new();
    if items.is_empty() {
        return Ok((matched, refused));
    }
    let mut users: HashSet<UserId> = HashSet::new();
    for a in items {
        users.insert(a.sender);
        users.extend(a.recipients.iter().copied());
        users.extend(a.withheld.iter().copied());
    }
    let directory = registrations(conn, &users)?;
    for a in items {
        // Addressed devices: the recipients' and the sender's others.
        let mut expected: BTreeMap<DeviceId, DeviceRef> = BTreeMap::new();
        for user in a.recipients.iter().chain(std::iter::once(&a.sender)) {
            for d in directory.get(user).into_iter().flatten() {
                if d.device != a.sending_device {
                    expected.insert(d.device, *d);
                }
            }
        }
        let mut mismatch = Mismatch::default();
        let mut mine: HashMap<DeviceId, Entry> = HashMap::new();
        let mut unknown: Vec<DeviceId> = Vec::new();
        for e in a.entries {
            match expected.get(&e.device_id) {
                Some(d) if d.registration_id.get() == e.registration_id => {
                    mine.insert(e.device_id, e.clone());
                }
                Some(d) => mismatch.stale.push(*d),
                None => {
                    let of_withheld = a.withheld.iter().any(|u| {
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
            let owner = if a.withheld.is_empty() {
                HashMap::new()
            } else {
                owners(conn, &unknown)?
            };
            mismatch.extra = unknown
                .into_iter()
                .filter(|d| owner.get(d).is_none_or(|u| !a.withheld.contains(u)))
                .collect();
        }
        let named: HashSet<DeviceId> = a.entries.iter().map(|e| e.device_id).collect();
        mismatch.missing = expected
            .values()
            .filter(|d| !named.contains(&d.device))
            .copied()
            .collect();
        if mismatch.is_empty() {
            matched.insert(a.index, mine);
        } else {
            mismatch.missing.sort();
            mismatch.stale.sort();
            mismatch.extra.sort();
            refused.push((a.index, mismatch));
        }
    }
    Ok((matched, refused))
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
