//! Test fixtures: a migrated store on a temp-file SQLite database, plus one
//! on a throwaway Postgres database when the suite runs on Postgres.
#![allow(dead_code, clippy::expect_used)]

use passerelle_store::{Backend, Store, admin};

pub struct Fixture {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg
            && let Err(e) = admin::drop_database(admin_url, name)
        {
            eprintln!("could not drop test database {name}: {e}");
        }
    }
}

/// The Postgres admin URL when the suite runs on Postgres
/// (`PASSERELLE_TEST_BACKEND=postgres`); the fixtures then cover both
/// backends, and an unreachable server fails the test.
pub fn pg_admin_url() -> Option<String> {
    (std::env::var("PASSERELLE_TEST_BACKEND").as_deref() == Ok("postgres"))
        .then(pg_admin_url_required)
}

/// The Postgres admin URL, for Postgres-only tests (which are `#[ignore]`d
/// on the embedded pass and run with `--include-ignored`).
pub fn pg_admin_url_required() -> String {
    std::env::var("PASSERELLE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub async fn sqlite_unmigrated() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/dir/store.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url, None).await.expect("connect sqlite");
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(path.exists(), "sqlite file and its parent dirs are created");
    Fixture {
        store,
        _dir: Some(dir),
        pg: None,
    }
}

pub async fn postgres_unmigrated() -> Option<Fixture> {
    let admin_url = pg_admin_url()?;
    let name = format!("passerelle_store_t_{}", uuid::Uuid::new_v4().simple());
    admin::create_database(&admin_url, &name, None).expect("create test database");
    let url = admin::url_with_database(&admin_url, &name);
    let store = Store::connect(&url, Some(4))
        .await
        .expect("connect postgres");
    assert_eq!(store.backend(), Backend::Postgres);
    Some(Fixture {
        store,
        _dir: None,
        pg: Some((admin_url, name)),
    })
}

/// Unmigrated fixtures for every available backend (SQLite always).
pub async fn unmigrated() -> Vec<Fixture> {
    let mut all = vec![sqlite_unmigrated().await];
    all.extend(postgres_unmigrated().await);
    all
}

/// Migrated fixtures for every available backend.
pub async fn migrated() -> Vec<Fixture> {
    let all = unmigrated().await;
    for f in &all {
        f.store.migrate().await.expect("migrate");
    }
    all
}

/// A new account named `name` (no password, no external identity).
pub fn user(
    c: &mut passerelle_store::DbConn,
    name: &str,
) -> passerelle_store::StoreResult<passerelle_store::UserId> {
    let id = passerelle_store::UserId::new();
    passerelle_store::users::insert(
        c,
        &passerelle_store::users::NewUser {
            id,
            username: name,
            display_name: None,
            password_hash: None,
            external_issuer: None,
            external_subject: None,
            now: passerelle_store::now(),
        },
    )?;
    Ok(id)
}
