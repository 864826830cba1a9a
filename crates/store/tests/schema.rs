//! Migrations, schema snapshot and pool behaviour, on every available backend.
#![allow(clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use passerelle_store::{Backend, Store, StoreError};

/// The committed snapshot of tables and columns (one file for both backends
/// and the integration suite).
fn expected_schema() -> BTreeMap<String, Vec<String>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/schema.snapshot.json"
    );
    let text = std::fs::read_to_string(path).expect("migrations/schema.snapshot.json");
    serde_json::from_str(&text).expect("snapshot json")
}

/// The migration directories of `backend`, in order.
fn migration_names(backend: Backend) -> Vec<String> {
    let dir = match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    };
    let path = format!("{}/../../migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(path)
        .expect("migrations dir")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn migrate_twice_is_a_noop_and_schema_matches() {
    let mut snapshots = Vec::new();
    for f in common::unmigrated().await {
        let backend = f.store.backend();
        assert!(
            f.store
                .describe_schema()
                .await
                .expect("describe")
                .is_empty()
        );
        let first = f.store.migrate().await.expect("first migrate");
        assert_eq!(first, migration_names(backend), "{backend:?}");
        assert!(first.len() >= 2);
        let second = f.store.migrate().await.expect("second migrate");
        assert!(second.is_empty(), "{backend:?}: {second:?}");
        f.store
            .check_schema_rs()
            .await
            .expect("schema.rs matches the database");
        f.store.ping().await.expect("ping");
        let schema = f.store.describe_schema().await.expect("describe");
        assert_eq!(schema, expected_schema(), "{backend:?}");
        snapshots.push(schema);
    }
    // Identical on both backends when Postgres is available.
    assert!(snapshots.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn transaction_rolls_back_on_err() {
    use passerelle_store::users::{self, NewUser};
    for f in common::migrated().await {
        let id = passerelle_store::UserId::new();
        let result: Result<(), StoreError> = f
            .store
            .transaction(move |c| {
                users::insert(
                    c,
                    &NewUser {
                        id,
                        username: "ghost",
                        display_name: None,
                        password_hash: None,
                        external_issuer: None,
                        external_subject: None,
                        now: passerelle_store::now(),
                    },
                )?;
                Err(StoreError::Internal("abort".into()))
            })
            .await;
        assert!(matches!(result, Err(StoreError::Internal(_))));
        let found = f
            .store
            .run(move |c| users::find(c, id))
            .await
            .expect("find");
        assert!(found.is_none(), "{:?}: rolled back", f.store.backend());
    }
}

#[tokio::test]
async fn concurrent_writers_do_not_fail() {
    use passerelle_store::users::{self, NewUser};
    for f in common::migrated().await {
        let mut tasks = Vec::new();
        for i in 0..24 {
            let store = f.store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .transaction(move |c| {
                        let name = format!("user{i}");
                        users::insert(
                            c,
                            &NewUser {
                                id: passerelle_store::UserId::new(),
                                username: &name,
                                display_name: Some("x"),
                                password_hash: None,
                                external_issuer: None,
                                external_subject: None,
                                now: passerelle_store::now(),
                            },
                        )?;
                        users::find_by_username(c, &name)
                    })
                    .await
            }));
        }
        for t in tasks {
            let row = t.await.expect("join").expect("insert under contention");
            assert!(row.is_some());
        }
    }
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable_fast() {
    let started = std::time::Instant::now();
    let err = Store::connect("postgres://postgres@127.0.0.1:1/nope", None)
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(Backend::from_url("postgresql://h/db"), Backend::Postgres);
    assert_eq!(Backend::from_url("sqlite:///tmp/x.db"), Backend::Sqlite);
    assert_eq!(Backend::from_url("data/passerelle.db"), Backend::Sqlite);
}

#[tokio::test]
#[ignore = "needs Postgres: runs on the Postgres pass (-- --include-ignored)"]
async fn admin_helpers_on_postgres() {
    let admin_url = common::pg_admin_url_required();
    let name = format!("passerelle_store_a_{}", uuid::Uuid::new_v4().simple());
    let result = tokio::task::spawn_blocking(move || {
        use passerelle_store::admin;
        assert!(!admin::database_exists(&admin_url, &name)?);
        admin::with_advisory_lock(&admin_url, 0x5e55_0001, || {
            admin::create_database(&admin_url, &name, None)
        })?;
        assert!(admin::database_exists(&admin_url, &name)?);
        assert!(admin::create_database(&admin_url, "bad;name", None).is_err());
        admin::drop_database(&admin_url, &name)?;
        assert!(!admin::database_exists(&admin_url, &name)?);
        admin::drop_database(&admin_url, &name) // IF EXISTS: fine twice
    })
    .await
    .expect("join");
    result.expect("admin helpers");
}
