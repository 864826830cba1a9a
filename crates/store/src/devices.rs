//! Queries on the `devices` table: one row per login of an account. A device
//! is *active* while `revoked_at` is NULL; revoking it also deletes its
//! refresh tokens, so it can never mint new access tokens.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{device_streams, devices, refresh_tokens};
use crate::sql_types::{Id, Ts};
use crate::{DeviceId, UserId};
use passerelle_domain::RegistrationId;

/// One device as stored.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub user_id: UserId,
    pub name: Option<String>,
    pub platform: Option<String>,
    pub external_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Changes when the device re-registers (see [`reregister`]).
    pub registration_id: RegistrationId,
}

/// A new device; `now` becomes `created_at` and `last_seen_at`.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    pub id: DeviceId,
    pub user_id: UserId,
    pub name: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub external_key: Option<&'a str>,
    /// The client's choice, or one picked at random.
    pub registration_id: Option<RegistrationId>,
    pub now: DateTime<Utc>,
}

/// Row shape in column order of `devices::all_columns`.
#[derive(Queryable)]
pub(crate) struct Record {
    id: Id,
    user_id: Id,
    name: Option<String>,
    platform: Option<String>,
    external_key: Option<String>,
    created_at: Ts,
    last_seen_at: Option<Ts>,
    revoked_at: Option<Ts>,
    registration_id: i32,
}

impl From<Record> for DeviceRow {
    fn from(r: Record) -> Self {
        DeviceRow {
            id: r.id.into(),
            user_id: r.user_id.into(),
            name: r.name,
            platform: r.platform,
            external_key: r.external_key,
            created_at: r.created_at.get(),
            last_seen_at: r.last_seen_at.map(Ts::get),
            revoked_at: r.revoked_at.map(Ts::get),
            registration_id: RegistrationId::from_stored(r.registration_id),
        }
    }
}

/// Inserts a device and returns its registration number.
/// `Conflict("external_key")` when the user already has an
/// active device with that external key; `NotFound` when the user is gone.
pub fn insert(conn: &mut DbConn, d: &NewDevice<'_>) -> StoreResult<RegistrationId> {
    let now = Ts::new(d.now);
    let registration = d
        .registration_id
        .unwrap_or_else(|| RegistrationId::pick(None));
    conn.guarded(|c| {
        diesel::insert_into(devices::table)
            .values((
                devices::id.eq(Id::from(d.id)),
                devices::user_id.eq(Id::from(d.user_id)),
                devices::name.eq(d.name),
                devices::platform.eq(d.platform),
                devices::external_key.eq(d.external_key),
                devices::created_at.eq(now),
                devices::last_seen_at.eq(Some(now)),
                devices::registration_id.eq(registration.stored()),
            ))
            .execute(&mut c.0)
            .db()?;
        // Every device has a stream from its first moment.
        diesel::insert_into(device_streams::table)
            .values((
                device_streams::device_id.eq(Id::from(d.id)),
                device_streams::user_id.eq(Id::from(d.user_id)),
            ))
            .execute(&mut c.0)
            .db()?;
        Ok(registration)
    })
}

/// The device if it belongs to `user` and is not revoked.
pub fn find_active(
    conn: &mut DbConn,
    user: UserId,
    device: DeviceId,
) -> StoreResult<Option<DeviceRow>> {
    devices::table
        .filter(devices::id.eq(Id::from(device)))
        .filter(devices::user_id.eq(Id::from(user)))
        .filter(devices::revoked_at.is_null())
        .select(devices::all_columns)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(DeviceRow::from))
}

/// The user's active device claimed under an external IdP device key.
pub fn find_by_external_key(
    conn: &mut DbConn,
    user: UserId,
    key: &str,
) -> StoreResult<Option<DeviceRow>> {
    devices::table
        .filter(devices::user_id.eq(Id::from(user)))
        .filter(devices::external_key.eq(key))
        .filter(devices::revoked_at.is_null())
        .select(devices::all_columns)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(DeviceRow::from))
}

/// The user's active devices, oldest first (ties broken by id).
pub fn list_active(conn: &mut DbConn, user: UserId) -> StoreResult<Vec<DeviceRow>> {
    devices::table
        .filter(devices::user_id.eq(Id::from(user)))
        .filter(devices::revoked_at.is_null())
        .order((devices::created_at.asc(), devices::id.asc()))
        .select(devices::all_columns)
        .load::<Record>(&mut conn.0)
        .db()
        .map(|rows| rows.into_iter().map(DeviceRow::from).collect())
}

/// Renames an active device of `user`; `None` if there is none such.
pub fn rename(
    conn: &mut DbConn,
    user: UserId,
    device: DeviceId,
    name: &str,
) -> StoreResult<Option<DeviceRow>> {
    diesel::update(
        devices::table
            .filter(devices::id.eq(Id::from(device)))
            .filter(devices::user_id.eq(Id::from(user)))
            .filter(devices::revoked_at.is_null()),
    )
    .set(devices::name.eq(name))
    .returning(devices::all_columns)
    .get_result::<Record>(&mut conn.0)
    .optional()
    .db()
    .map(|r| r.map(DeviceRow::from))
}

/// Re-registers the active device `device` of `user`: its registration
/// number becomes `to` (or a fresh one different from the current one).
/// Returns the device as it now is and whether the number changed (asking
/// for the current number changes nothing); `None` if it is not an active
/// device of `user`.
pub fn reregister(
    conn: &mut DbConn,
    user: UserId,
    device: DeviceId,
    to: Option<RegistrationId>,
) -> StoreResult<Option<(DeviceRow, bool)>> {
    let Some(current) = find_active(conn, user, device)? else {
        return Ok(None);
    };
    let next = to.unwrap_or_else(|| RegistrationId::pick(Some(current.registration_id)));
    if next == current.registration_id {
        return Ok(Some((current, false)));
    }
    let row = diesel::update(
        devices::table
            .filter(devices::id.eq(Id::from(device)))
            .filter(devices::user_id.eq(Id::from(user)))
            .filter(devices::revoked_at.is_null()),
    )
    .set(devices::registration_id.eq(next.stored()))
    .returning(devices::all_columns)
    .get_result::<Record>(&mut conn.0)
    .optional()
    .db()?;
    Ok(row.map(|r| (DeviceRow::from(r), true)))
}

/// Records activity. A missing device is not an error (it may have just
/// been revoked or deleted).
pub fn touch(conn: &mut DbConn, device: DeviceId, now: DateTime<Utc>) -> StoreResult<()> {
    diesel::update(devices::table.filter(devices::id.eq(Id::from(device))))
        .set(devices::last_seen_at.eq(Some(Ts::new(now))))
        .execute(&mut conn.0)
        .db()?;
    Ok(())
}

/// Revokes an active device of `user` and deletes its refresh tokens (in
/// one transaction). `false` if it is not an active device of that user.
pub fn revoke(
    conn: &mut DbConn,
    user: UserId,
    device: DeviceId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    conn.tx(|conn| {
        let n = diesel::update(
            devices::table
                .filter(devices::id.eq(Id::from(device)))
                .filter(devices::user_id.eq(Id::from(user)))
                .filter(devices::revoked_at.is_null()),
        )
        .set(devices::revoked_at.eq(Some(Ts::new(now))))
        .execute(&mut conn.0)
        .db()?;
        if n == 0 {
            return Ok(false);
        }
        diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::device_id.eq(Id::from(device))),
        )
        .execute(&mut conn.0)
        .db()?;
        Ok(true)
    })
}

/// Revokes every active device of `user` except `keep`, deleting their
/// refresh tokens (in one transaction). Returns the revoked ids.
pub fn revoke_all_except(
    conn: &mut DbConn,
    user: UserId,
    keep: DeviceId,
    now: DateTime<Utc>,
) -> StoreResult<Vec<DeviceId>> {
    conn.tx(|conn| {
        let revoked: Vec<Id> = diesel::update(
            devices::table
                .filter(devices::user_id.eq(Id::from(user)))
                .filter(devices::id.ne(Id::from(keep)))
                .filter(devices::revoked_at.is_null()),
        )
        .set(devices::revoked_at.eq(Some(Ts::new(now))))
        .returning(devices::id)
        .get_results(&mut conn.0)
        .db()?;
        // Every other device of the user is now revoked, and revoked devices
        // keep no tokens, so this deletes exactly the revoked ones' tokens.
        diesel::delete(
            refresh_tokens::table
                .filter(refresh_tokens::user_id.eq(Id::from(user)))
                .filter(refresh_tokens::device_id.ne(Id::from(keep))),
        )
        .execute(&mut conn.0)
        .db()?;
        Ok(revoked.into_iter().map(DeviceId::from).collect())
    })
}
