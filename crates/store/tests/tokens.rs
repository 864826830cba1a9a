//! Refresh-token consumption, on every available backend.
#![allow(clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use passerelle_store::devices::{self, NewDevice};
use passerelle_store::refresh_tokens::{self, Consumed, NewRefreshToken};
use passerelle_store::users::{self, NewUser};
use passerelle_store::{DeviceId, StoreError, UserId, now};

#[tokio::test]
async fn consume_rotated_replayed_expired_unknown() {
    for f in common::migrated().await {
        let backend = f.store.backend();
        f.store
            .transaction(move |c| {
                let t = now();
                let user = UserId::new();
                users::insert(
                    c,
                    &NewUser {
                        id: user,
                        username: "alice",
                        display_name: None,
                        password_hash: None,
                        external_issuer: None,
                        external_subject: None,
                        now: t,
                    },
                )?;
                let device = DeviceId::new();
                let other = DeviceId::new();
                for id in [device, other] {
                    devices::insert(
                        c,
                        &NewDevice {
                            id,
                            user_id: user,
                            name: None,
                            platform: None,
                            external_key: None,
                            registration_id: None,
                            now: t,
                        },
                    )?;
                }
                fn token_for(
                    user_id: UserId,
                    t: DateTime<Utc>,
                ) -> impl Fn(&[u8; 32], DeviceId, Duration) -> NewRefreshToken<'_> {
                    move |hash, device_id, expires_in| NewRefreshToken {
                        id: uuid::Uuid::now_v7(),
                        user_id,
                        device_id,
                        token_hash: hash,
                        now: t,
                        expires_at: t + expires_in,
                    }
                }
                let token = token_for(user, t);
                let good = [1u8; 32];
                let old = [2u8; 32];
                let other_hash = [3u8; 32];
                refresh_tokens::insert(c, &token(&good, device, Duration::days(30)))?;
                refresh_tokens::insert(c, &token(&old, device, Duration::seconds(-1)))?;
                refresh_tokens::insert(c, &token(&other_hash, other, Duration::days(30)))?;

                let err = refresh_tokens::insert(c, &token(&good, device, Duration::days(1)))
                    .expect_err("dup hash");
                assert!(
                    matches!(err, StoreError::Conflict("token_hash")),
                    "{backend:?}: {err:?}"
                );
                let err =
                    refresh_tokens::insert(c, &token(&[5; 32], DeviceId::new(), Duration::days(1)))
                        .expect_err("no such device");
                assert!(matches!(err, StoreError::NotFound), "{backend:?}: {err:?}");

                let at = now();
                assert_eq!(
                    refresh_tokens::consume(c, &good, at)?,
                    Consumed::Rotated {
                        user_id: user,
                        device_id: device
                    }
                );
                assert_eq!(
                    refresh_tokens::consume(c, &good, at)?,
                    Consumed::Replayed {
                        user_id: user,
                        device_id: device
                    }
                );
                assert_eq!(refresh_tokens::consume(c, &old, at)?, Consumed::Expired);
                assert_eq!(
                    refresh_tokens::consume(c, &[4u8; 32], at)?,
                    Consumed::Unknown
                );
                assert_eq!(refresh_tokens::consume(c, &[], at)?, Consumed::Unknown);
                // Expiry is exclusive: a token is dead at exactly expires_at.
                let edge = [6u8; 32];
                refresh_tokens::insert(c, &token(&edge, device, Duration::seconds(10)))?;
                assert_eq!(
                    refresh_tokens::consume(c, &edge, t + Duration::seconds(10))?,
                    Consumed::Expired
                );
                assert!(matches!(
                    refresh_tokens::consume(c, &edge, t + Duration::seconds(9))?,
                    Consumed::Rotated { .. }
                ));

                assert!(devices::revoke(c, user, other, at)?);
                assert_eq!(
                    refresh_tokens::consume(c, &other_hash, at)?,
                    Consumed::Unknown,
                    "revoked device"
                );
                Ok(())
            })
            .await
            .expect("scenario");
    }
}

#[tokio::test]
async fn short_hash_is_rejected() {
    for f in common::migrated().await {
        let err = f
            .store
            .run(|c| {
                let t = now();
                let user = UserId::new();
                users::insert(
                    c,
                    &NewUser {
                        id: user,
                        username: "a",
                        display_name: None,
                        password_hash: None,
                        external_issuer: None,
                        external_subject: None,
                        now: t,
                    },
                )?;
                let device = DeviceId::new();
                devices::insert(
                    c,
                    &NewDevice {
                        id: device,
                        user_id: user,
                        name: None,
                        platform: None,
                        external_key: None,
                        registration_id: None,
                        now: t,
                    },
                )?;
                refresh_tokens::insert(
                    c,
                    &NewRefreshToken {
                        id: uuid::Uuid::now_v7(),
                        user_id: user,
                        device_id: device,
                        token_hash: &[1; 16],
                        now: t,
                        expires_at: t,
                    },
                )
            })
            .await
            .expect_err("16-byte hash");
        assert!(matches!(err, StoreError::Internal(_)), "{err:?}");
    }
}
