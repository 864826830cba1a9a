//! Both migration trees give the same tables and columns: each backend's
//! migrated schema is compared with one committed snapshot
//! (`migrations/schema.snapshot.json`), and `schema.rs` is checked against it.

use std::collections::BTreeMap;

use passerelle_store::Store;
use passerelle_test_support::{Backend, TestDatabase};

const SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../migrations/schema.snapshot.json"
);

#[tokio::test]
async fn migrated_schema_matches_the_snapshot_and_schema_rs() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::from_env();
    let db = tokio::task::spawn_blocking(move || {
        TestDatabase::create(backend, std::path::Path::new(crate::common::BIN))
    })
    .await
    .unwrap();
    let url = match db.url() {
        Some(url) => url.to_owned(),
        None => dir.path().join("schema.db").to_string_lossy().into_owned(),
    };
    let store = Store::connect(&url, Some(1)).await.expect("connect");
    store.migrate().await.expect("migrate");
    assert!(
        store.migrate().await.expect("migrate again").is_empty(),
        "migrations are idempotent"
    );
    store
        .check_schema_rs()
        .await
        .expect("schema.rs matches the migrated database");
    let actual = store.describe_schema().await.expect("describe");
    let committed: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(SNAPSHOT).expect("snapshot exists"))
            .expect("snapshot json");
    assert_eq!(
        actual, committed,
        "{backend:?} schema differs from migrations/schema.snapshot.json"
    );
}
