//! Queries on the `refresh_tokens` table: single-use, rotating refresh
//! tokens, stored only as the SHA-256 of the opaque token. Reuse of a spent
//! token is reported as [`Consumed::Replayed`] so the caller can revoke the
//! device (refresh-token reuse detection).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{devices, refresh_tokens};
use crate::sql_types::{Id, Ts};
use crate::{DeviceId, UserId};

/// A new refresh token (hash only).
#[derive(Debug, Clone)]
pub struct NewRefreshToken<'a> {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub device_id: DeviceId,
    /// SHA-256 of the opaque token: exactly 32 bytes (a CHECK enforces it).
    pub token_hash: &'a [u8],
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// Was unused, unexpired and its device active: now marked used. The
    /// caller inserts the successor in the same transaction.
    Rotated {
        user_id: UserId,
        device_id: DeviceId,
    },
    /// Was already used (or lost a race to mark it): the caller revokes the
    /// device.
    Replayed {
        user_id: UserId,
        device_id: DeviceId,
    },
    /// Unused but past `expires_at`.
    Expired,
    /// No such hash, or its device is revoked.
    Unknown,
}

/// (user_id, device_id, expires_at, used_at, device revoked_at).
type Lookup = (Id, Id, Ts, Option<Ts>, Option<Ts>);

/// Row shape in column order of `refresh_tokens::all_columns`.
#[derive(Queryable)]
#[allow(dead_code)] // read whole to prove schema.rs; not every field is used
pub(crate) struct Record {
    id: Id,
    user_id: Id,
    device_id: Id,
    token_hash: Vec<u8>,
    created_at: Ts,
    expires_at: Ts,
    used_at: Option<Ts>,
}

/// Stores a token hash. `NotFound` if the user or device does not exist.
pub fn insert(conn: &mut DbConn, t: &NewRefreshToken<'_>) -> StoreResult<()> {
    conn.guarded(|c| {
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::id.eq(Id(t.id)),
                refresh_tokens::user_id.eq(Id::from(t.user_id)),
                refresh_tokens::device_id.eq(Id::from(t.device_id)),
                refresh_tokens::token_hash.eq(t.token_hash),
                refresh_tokens::created_at.eq(Ts::new(t.now)),
                refresh_tokens::expires_at.eq(Ts::new(t.expires_at)),
            ))
            .execute(&mut c.0)
            .db()?;
        Ok(())
    })
}

/// Presents a token: classifies it and, if it is good, marks it used with a
/// conditional `UPDATE .. WHERE used_at IS NULL` (0 rows means another
/// request spent it first: `Replayed`). A spent token is `Replayed` even
/// once expired: reuse of an old token is still a theft signal.
pub fn consume(conn: &mut DbConn, token_hash: &[u8], now: DateTime<Utc>) -> StoreResult<Consumed> {
    let found: Option<Lookup> = refresh_tokens::table
        .inner_join(devices::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::user_id,
            refresh_tokens::device_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            devices::revoked_at,
        ))
        .first(&mut conn.0)
        .optional()
        .db()?;
    let Some((user_id, device_id, expires_at, used_at, revoked_at)) = found else {
        return Ok(Consumed::Unknown);
    };
    let (user_id, device_id) = (UserId::from(user_id), DeviceId::from(device_id));
    if revoked_at.is_some() {
        return Ok(Consumed::Unknown);
    }
    if used_at.is_some() {
        return Ok(Consumed::Replayed { user_id, device_id });
    }
    let now = Ts::new(now);
    if expires_at.get() <= now.get() {
        return Ok(Consumed::Expired);
    }
    let marked = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(&mut conn.0)
    .db()?;
    Ok(if marked == 1 {
        Consumed::Rotated { user_id, device_id }
    } else {
        Consumed::Replayed { user_id, device_id }
    })
}
