//! Unit tests of the on-disk forms (need crate-private access to the raw
//! connection): SQLite stores 16-byte BLOB ids and fixed-width RFC 3339
//! text; Postgres uses native `uuid`, `timestamptz` and `bytea` columns.

use chrono::{Duration, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::conn::AnyConnection;
use crate::users::{self, NewUser};
use crate::{Store, UserId};

#[derive(QueryableByName, Debug)]
struct Raw {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    len: i64,
    #[diesel(sql_type = Text)]
    created: String,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct ColType {
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

fn alice(at: chrono::DateTime<Utc>) -> NewUser<'static> {
    NewUser {
        id: UserId::new(),
        username: "alice",
        display_name: None,
        password_hash: None,
        external_issuer: None,
        external_subject: None,
        now: at,
    }
}

#[tokio::test]
async fn sqlite_stores_blob_ids_and_fixed_width_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("raw.db").display().to_string();
    let store = Store::connect(&url, None).await.expect("connect");
    store.migrate().await.expect("migrate");
    let at = Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("date")
        + Duration::nanoseconds(123_456_789);
    let raw = store
        .run(move |c| {
            users::insert(c, &alice(at))?;
            let AnyConnection::Sqlite(conn) = &mut c.0 else {
                panic!("sqlite expected")
            };
            let sql =
                "SELECT typeof(id) AS kind, length(id) AS len, created_at AS created FROM users";
            Ok(diesel::sql_query(sql)
                .get_result::<Raw>(conn)
                .expect("raw row"))
        })
        .await
        .expect("run");
    assert_eq!((raw.kind.as_str(), raw.len), ("blob", 16));
    assert_eq!(raw.created, "2026-11-22T10:00:00.123456Z");
}

#[tokio::test]
#[ignore = "needs Postgres: runs on the Postgres pass (-- --include-ignored)"]
async fn postgres_uses_native_types() {
    let admin_url = std::env::var("PASSERELLE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("passerelle_store_u_{}", uuid::Uuid::new_v4().simple());
    crate::admin::create_database(&admin_url, &name, None).expect("create db");
    let store = Store::connect(&crate::admin::url_with_database(&admin_url, &name), Some(2))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let types = store
        .run(|c| {
            let AnyConnection::Postgresql(conn) = &mut c.0 else {
                panic!("postgres expected")
            };
            let sql = "SELECT column_name::text AS column_name, data_type::text AS data_type \
                 FROM information_schema.columns WHERE table_name = 'refresh_tokens' \
                 AND column_name IN ('id', 'token_hash', 'expires_at') ORDER BY column_name";
            Ok(diesel::sql_query(sql).load::<ColType>(conn).expect("types"))
        })
        .await
        .expect("run");
    drop(store);
    crate::admin::drop_database(&admin_url, &name).expect("drop db");
    let got: Vec<(&str, &str)> = types
        .iter()
        .map(|t| (t.column_name.as_str(), t.data_type.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("expires_at", "timestamp with time zone"),
            ("id", "uuid"),
            ("token_hash", "bytea")
        ]
    );
}
