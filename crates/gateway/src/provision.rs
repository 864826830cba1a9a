//! Accounts and devices for users of an external identity provider, created
//! the first time one of their tokens is seen.
//!
//! The account is keyed by (issuer, subject). Its username comes from the
//! provider's username claim when that is a valid, free Passerelle username,
//! else a generated `u_<hex>`; it has no password. The device is the one the
//! provider names in its device claim (created on first sight), or, without
//! such a claim, one device per account labelled by the issuer. A revoked
//! device stays revoked: its key is never reissued, its tokens are refused. Concurrent
//! first requests race safely: the loser of the unique-key insert reads the
//! winner's row.

use passerelle_auth::external::ExternalIdentity;
use passerelle_domain::{DeviceId, UserId, Username};
use passerelle_store::devices::NewDevice;
use passerelle_store::users::NewUser;
use passerelle_store::{DbConn, StoreError, StoreResult, devices, users};

use passerelle_store::streams::StreamEvent;

use crate::authn::Caller;
use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::state::AppState;

/// Device key used when the provider's token names no device.
const DEFAULT_DEVICE_KEY: &str = "default";

pub async fn external_caller(
    state: &AppState,
    identity: ExternalIdentity,
) -> Result<Caller, ApiError> {
    let expires_at = identity.expires_at;
    let caller = state
        .store
        .run(move |conn| {
            let user_id = find_or_create_user(conn, &identity)?;
            let key = identity.device_key.as_deref().unwrap_or(DEFAULT_DEVICE_KEY);
            let (device_id, announced) =
                find_or_create_device(conn, user_id, key, &identity.issuer)?;
            let caller = device_id.map(|device_id| Caller {
                user_id,
                device_id,
                expires_at,
            });
            Ok((caller, announced))
        })
        .await?;
    let (caller, announced) = caller;
    crate::device_list::publish(state, &announced).await;
    caller.ok_or(ApiError::Unauthorized("device revoked"))
}

fn find_or_create_user(conn: &mut DbConn, id: &ExternalIdentity) -> StoreResult<UserId> {
    if let Some(user) = users::find_by_external(conn, &id.issuer, &id.subject)? {
        return Ok(user.id);
    }
    let user_id = UserId::new();
    let preferred = id
        .preferred_username
        .as_deref()
        .and_then(|u| Username::parse(u).ok())
        .map(Username::into_string);
    let generated = format!("u_{}", &user_id.0.simple().to_string()[20..]);
    for username in preferred.iter().chain(std::iter::once(&generated)) {
        let new = NewUser {
            id: user_id,
            username,
            display_name: None,
            password_hash: None,
            external_issuer: Some(&id.issuer),
            external_subject: Some(&id.subject),
            now: passerelle_store::now(),
        };
        match users::insert(conn, &new) {
            Ok(()) => return Ok(user_id),
            Err(StoreError::Conflict("username")) => continue,
            Err(StoreError::Conflict(_)) => {
                // Another request created this identity first.
                return users::find_by_external(conn, &id.issuer, &id.subject)?
                    .map(|u| u.id)
                    .ok_or(StoreError::NotFound);
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict("username"))
}

/// The device (`None`: revoked) and, when it was created here, the
/// device-list events announcing it (to publish).
fn find_or_create_device(
    conn: &mut DbConn,
    user_id: UserId,
    key: &str,
    issuer: &str,
) -> StoreResult<(Option<DeviceId>, Vec<StreamEvent>)> {
    if let Some(device) = devices::find_by_external_key(conn, user_id, key)? {
        return Ok((Some(device.id), Vec::new()));
    }
    let device_id = DeviceId::new();
    let now = passerelle_store::now();
    let new = NewDevice {
        id: device_id,
        user_id,
        name: Some(issuer),
        platform: None,
        external_key: Some(key),
        registration_id: None,
        now,
    };
    match devices::insert(conn, &new) {
        Ok(registration) => {
            let announced = conn.tx(|conn| {
                device_list::announce(
                    conn,
                    user_id,
                    &[Change::added(device_id, registration)],
                    now,
                )
            })?;
            Ok((Some(device_id), announced))
        }
        // Either a concurrent request created it (then it is active now), or
        // the device was revoked: its key stays taken and its tokens refused.
        Err(StoreError::Conflict(_)) => Ok((
            devices::find_by_external_key(conn, user_id, key)?.map(|d| d.id),
            Vec::new(),
        )),
        Err(e) => Err(e),
    }
}
