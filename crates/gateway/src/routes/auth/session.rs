//! What register, login and refresh share: storing a refresh token for a
//! device and answering with a fresh token pair.

use chrono::Duration as ChronoDuration;
use passerelle_api_types::TokenResponse;
use passerelle_auth::refresh;
use passerelle_domain::{DeviceId, DeviceName, Platform, RegistrationId, UserId};
use passerelle_store::devices::{self, NewDevice};
use passerelle_store::refresh_tokens::{self, NewRefreshToken};
use passerelle_store::streams::StreamEvent;
use passerelle_store::{DbConn, StoreResult};
use secrecy::{ExposeSecret, SecretString};

use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::state::AppState;

/// A refresh token about to be handed out, and the digest the DB keeps.
pub struct NewRefresh {
    pub token: SecretString,
    pub digest: [u8; 32],
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl NewRefresh {
    pub fn generate(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> Self {
        let (token, digest) = refresh::generate();
        let ttl = ChronoDuration::from_std(state.refresh_ttl()).unwrap_or(ChronoDuration::days(30));
        Self {
            token,
            digest,
            expires_at: now + ttl,
        }
    }

    /// Stores a refresh token's digest for `device_id` (inside the caller's
    /// transaction; the token itself is never stored).
    pub fn store_digest(
        conn: &mut DbConn,
        digest: &[u8; 32],
        expires_at: chrono::DateTime<chrono::Utc>,
        user_id: UserId,
        device_id: DeviceId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        refresh_tokens::insert(
            conn,
            &NewRefreshToken {
                id: uuid::Uuid::now_v7(),
                user_id,
                device_id,
                token_hash: digest,
                now,
                expires_at,
            },
        )
    }
}

/// The optional device label of a register or login request, validated.
pub struct DeviceLabel {
    pub name: Option<String>,
    pub platform: Option<String>,
    pub registration_id: Option<RegistrationId>,
}

impl DeviceLabel {
    pub fn parse(
        name: Option<&str>,
        platform: Option<&str>,
        registration_id: Option<u32>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            registration_id: registration_id
                .map(|r| RegistrationId::parse(u64::from(r)))
                .transpose()?,
            name: name
                .map(DeviceName::parse)
                .transpose()?
                .map(DeviceName::into_string),
            platform: platform
                .map(Platform::parse)
                .transpose()?
                .map(Platform::into_string),
        })
    }
}

/// A device signing in for the first time (register, login), in the
/// caller's transaction: the device row with `label`, its refresh token's
/// digest, and the `devices` event announcing it. Returns its registration
/// number and the events to publish after the commit.
pub fn new_device(
    conn: &mut DbConn,
    label: &DeviceLabel,
    (user_id, device_id): (UserId, DeviceId),
    (digest, expires_at): ([u8; 32], chrono::DateTime<chrono::Utc>),
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<(RegistrationId, Vec<StreamEvent>)> {
    let registration = devices::insert(
        conn,
        &NewDevice {
            id: device_id,
            user_id,
            name: label.name.as_deref(),
            platform: label.platform.as_deref(),
            external_key: None,
            registration_id: label.registration_id,
            now,
        },
    )?;
    NewRefresh::store_digest(conn, &digest, expires_at, user_id, device_id, now)?;
    let announced = device_list::announce(
        conn,
        user_id,
        &[Change::added(device_id, registration)],
        now,
    )?;
    Ok((registration, announced))
}

/// Signs an access token and assembles the response body; `registration`
/// for a new device (register, login).
pub fn token_response(
    state: &AppState,
    user_id: UserId,
    device_id: DeviceId,
    refresh: &NewRefresh,
    registration: Option<RegistrationId>,
) -> Result<TokenResponse, ApiError> {
    let access = state.tokens.issue(user_id, device_id)?;
    Ok(TokenResponse {
        user_id: user_id.0,
        device_id: device_id.0,
        access_token: access.token,
        refresh_token: refresh.token.expose_secret().to_owned(),
        expires_in: access.expires_in,
        registration_id: registration.map(RegistrationId::get),
    })
}
