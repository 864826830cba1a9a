//! Timestamps round-trip exactly (microsecond precision) on every backend.
#![allow(clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use passerelle_store::users::{self, NewUser};
use passerelle_store::{UserId, now};

#[tokio::test]
async fn timestamps_round_trip_at_microsecond_precision() {
    let base = Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("date");
    let samples = [
        base + Duration::nanoseconds(123_456_789), // truncated to .123456
        base,
        base + Duration::microseconds(999_999),
        Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59)
            .single()
            .expect("date")
            + Duration::microseconds(1),
        now(),
    ];
    for f in common::migrated().await {
        let backend = f.store.backend();
        for (i, at) in samples.into_iter().enumerate() {
            let truncated =
                at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos() % 1000));
            let row = f
                .store
                .run(move |c| {
                    let id = UserId::new();
                    let name = format!("t{i}");
                    users::insert(
                        c,
                        &NewUser {
                            id,
                            username: &name,
                            display_name: None,
                            password_hash: None,
                            external_issuer: None,
                            external_subject: None,
                            now: at,
                        },
                    )?;
                    users::find(c, id)
                })
                .await
                .expect("round trip")
                .expect("row");
            assert_eq!(row.created_at, truncated, "{backend:?} sample {i}");
            assert_eq!(row.updated_at, truncated, "{backend:?} sample {i}");
        }
        assert_eq!(now().timestamp_subsec_nanos() % 1000, 0);
    }
}
