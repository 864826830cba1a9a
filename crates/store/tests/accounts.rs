//! Users and devices, on every available backend.
#![allow(clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use passerelle_store::devices::{self, NewDevice};
use passerelle_store::refresh_tokens::{self, Consumed, NewRefreshToken};
use passerelle_store::users::{self, NewUser};
use passerelle_store::{DbConn, DeviceId, StoreError, StoreResult, UserId, now};

fn add_user(c: &mut DbConn, username: &str, at: DateTime<Utc>) -> StoreResult<UserId> {
    let id = UserId::new();
    users::insert(
        c,
        &NewUser {
            id,
            username,
            display_name: None,
            password_hash: Some("$argon2id$fake"),
            external_issuer: None,
            external_subject: None,
            now: at,
        },
    )?;
    Ok(id)
}

fn add_device(
    c: &mut DbConn,
    user: UserId,
    key: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<DeviceId> {
    let id = DeviceId::new();
    devices::insert(
        c,
        &NewDevice {
            id,
            user_id: user,
            name: Some("phone"),
            platform: Some("android"),
            external_key: key,
            registration_id: None,
            now: at,
        },
    )?;
    Ok(id)
}

fn add_token(c: &mut DbConn, user: UserId, device: DeviceId, hash: [u8; 32]) -> StoreResult<()> {
    let t = now();
    refresh_tokens::insert(
        c,
        &NewRefreshToken {
            id: uuid::Uuid::now_v7(),
            user_id: user,
            device_id: device,
            token_hash: &hash,
            now: t,
            expires_at: t + Duration::days(30),
        },
    )
}

#[tokio::test]
async fn users_insert_find_update_conflict() {
    for f in common::migrated().await {
        let backend = f.store.backend();
        f.store
            .run(move |c| {
                let t = now();
                let id = add_user(c, "alice", t)?;
                let row = users::find(c, id)?.expect("alice exists");
                assert_eq!(row.username, "alice");
                assert_eq!(row.password_hash.as_deref(), Some("$argon2id$fake"));
                assert_eq!((row.created_at, row.updated_at), (t, t));
                assert_eq!(
                    users::find_by_username(c, "alice")?.expect("by name").id,
                    id
                );
                assert!(users::find_by_username(c, "bob")?.is_none());
                assert!(users::find(c, UserId::new())?.is_none());

                let err = add_user(c, "alice", t).expect_err("duplicate username");
                assert!(
                    matches!(err, StoreError::Conflict("username")),
                    "{backend:?}: {err:?}"
                );

                let ext = NewUser {
                    id: UserId::new(),
                    username: "carol",
                    display_name: Some("Carol"),
                    password_hash: None,
                    external_issuer: Some("https://idp.example"),
                    external_subject: Some("sub-1"),
                    now: t,
                };
                users::insert(c, &ext)?;
                let found = users::find_by_external(c, "https://idp.example", "sub-1")?
                    .expect("by external");
                assert_eq!((found.id, found.password_hash), (ext.id, None));
                let dup = NewUser {
                    id: UserId::new(),
                    username: "carol2",
                    ..ext
                };
                let err = users::insert(c, &dup).expect_err("duplicate external identity");
                assert!(
                    matches!(err, StoreError::Conflict("external_identity")),
                    "{backend:?}: {err:?}"
                );
                let err = users::insert(
                    c,
                    &NewUser {
                        id,
                        username: "dave",
                        ..dup
                    },
                )
                .expect_err("dup id");
                assert!(
                    matches!(err, StoreError::Conflict(_)),
                    "{backend:?}: {err:?}"
                );

                let later = t + Duration::seconds(5);
                let renamed =
                    users::set_display_name(c, id, Some("Alice A."), later)?.expect("updated");
                assert_eq!(
                    (renamed.display_name.as_deref(), renamed.updated_at),
                    (Some("Alice A."), later)
                );
                let cleared = users::set_display_name(c, id, None, later)?.expect("updated");
                assert_eq!(cleared.display_name, None);
                assert!(users::set_display_name(c, UserId::new(), Some("x"), later)?.is_none());
                assert!(users::set_password_hash(c, id, "$argon2id$new", later)?);
                assert!(!users::set_password_hash(c, UserId::new(), "h", later)?);
                assert_eq!(
                    users::find(c, id)?.expect("alice").password_hash.as_deref(),
                    Some("$argon2id$new")
                );
                Ok(())
            })
            .await
            .expect("scenario");
    }
}

#[tokio::test]
async fn devices_list_rename_revoke() {
    for f in common::migrated().await {
        let backend = f.store.backend();
        f.store
            .run(move |c| {
                let t = now();
                let alice = add_user(c, "alice", t)?;
                let bob = add_user(c, "bob", t)?;
                let d1 = add_device(c, alice, None, t)?;
                let d2 = add_device(c, alice, Some("idp-dev-1"), t + Duration::seconds(1))?;
                let d3 = add_device(c, alice, None, t + Duration::seconds(2))?;
                let bobs = add_device(c, bob, Some("idp-dev-1"), t)?; // same key, other user: fine

                let list: Vec<DeviceId> = devices::list_active(c, alice)?
                    .into_iter()
                    .map(|d| d.id)
                    .collect();
                assert_eq!(list, vec![d1, d2, d3], "{backend:?}: ordered by created_at");
                let row = devices::find_active(c, alice, d1)?.expect("active");
                assert_eq!(
                    (row.last_seen_at, row.revoked_at, row.user_id),
                    (Some(t), None, alice)
                );
                assert!(devices::find_active(c, bob, d1)?.is_none(), "not bob's");
                assert_eq!(
                    devices::find_by_external_key(c, alice, "idp-dev-1")?
                        .expect("by key")
                        .id,
                    d2
                );

                let err = add_device(c, alice, Some("idp-dev-1"), t).expect_err("dup key");
                assert!(
                    matches!(err, StoreError::Conflict("external_key")),
                    "{backend:?}: {err:?}"
                );
                let err = add_device(c, UserId::new(), None, t).expect_err("no such user");
                assert!(matches!(err, StoreError::NotFound), "{backend:?}: {err:?}");

                let renamed = devices::rename(c, alice, d1, "laptop")?.expect("renamed");
                assert_eq!(renamed.name.as_deref(), Some("laptop"));
                assert!(devices::rename(c, bob, d1, "stolen")?.is_none());
                let seen = t + Duration::minutes(3);
                devices::touch(c, d1, seen)?;
                assert_eq!(
                    devices::find_active(c, alice, d1)?
                        .expect("d1")
                        .last_seen_at,
                    Some(seen)
                );
                devices::touch(c, DeviceId::new(), seen)?; // missing device: no error

                add_token(c, alice, d2, [2; 32])?;
                add_token(c, alice, d1, [1; 32])?;
                assert!(!devices::revoke(c, bob, d2, t)?, "another user's device");
                assert!(devices::revoke(c, alice, d2, t)?);
                assert!(!devices::revoke(c, alice, d2, t)?, "already revoked");
                assert_eq!(
                    refresh_tokens::consume(c, &[2; 32], now())?,
                    Consumed::Unknown,
                    "tokens deleted"
                );
                assert!(devices::find_active(c, alice, d2)?.is_none());
                assert!(devices::find_by_external_key(c, alice, "idp-dev-1")?.is_none());
                assert!(devices::rename(c, alice, d2, "x")?.is_none());
                // Revoking an external device is final: its key cannot return.
                assert!(matches!(
                    add_device(c, alice, Some("idp-dev-1"), t + Duration::seconds(3)),
                    Err(StoreError::Conflict("external_key"))
                ));
                let d4 = add_device(c, alice, Some("idp-dev-2"), t + Duration::seconds(3))?;

                add_token(c, bob, bobs, [9; 32])?;
                let mut revoked = devices::revoke_all_except(c, alice, d1, t)?;
                revoked.sort();
                let mut want = vec![d3, d4];
                want.sort();
                assert_eq!(revoked, want);
                let list: Vec<DeviceId> = devices::list_active(c, alice)?
                    .into_iter()
                    .map(|d| d.id)
                    .collect();
                assert_eq!(list, vec![d1]);
                assert!(
                    matches!(
                        refresh_tokens::consume(c, &[1; 32], now())?,
                        Consumed::Rotated { .. }
                    ),
                    "kept"
                );
                assert!(
                    matches!(
                        refresh_tokens::consume(c, &[9; 32], now())?,
                        Consumed::Rotated { .. }
                    ),
                    "bob untouched"
                );
                assert_eq!(devices::list_active(c, bob)?.len(), 1);
                Ok(())
            })
            .await
            .expect("scenario");
    }
}

#[tokio::test]
async fn deleting_a_user_cascades() {
    for f in common::migrated().await {
        let backend = f.store.backend();
        f.store
            .run(move |c| {
                let t = now();
                let alice = add_user(c, "alice", t)?;
                let active = add_device(c, alice, None, t)?;
                let revoked = add_device(c, alice, None, t)?;
                add_token(c, alice, active, [7; 32])?;
                assert!(devices::revoke(c, alice, revoked, t)?);
                assert!(users::delete(c, alice)?);
                assert!(!users::delete(c, alice)?);
                assert!(users::find(c, alice)?.is_none());
                assert!(devices::list_active(c, alice)?.is_empty());
                assert_eq!(
                    refresh_tokens::consume(c, &[7; 32], now())?,
                    Consumed::Unknown
                );
                // The rows are really gone: their ids and hash can be reused.
                let bob = add_user(c, "bob", t)?;
                for id in [active, revoked] {
                    devices::insert(
                        c,
                        &NewDevice {
                            id,
                            user_id: bob,
                            name: None,
                            platform: None,
                            external_key: None,
                            registration_id: None,
                            now: t,
                        },
                    )
                    .unwrap_or_else(|e| panic!("{backend:?}: device row survived: {e:?}"));
                }
                add_token(c, bob, active, [7; 32])?;
                Ok(())
            })
            .await
            .expect("scenario");
    }
}
