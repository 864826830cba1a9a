//! The blob store's tests: the real HTTP server on 127.0.0.1:0, driven the
//! way a client would. Every scenario in `scenarios.rs` runs on the local
//! backend (one test each, `local::*`) and on the S3 backend against a
//! SeaweedFS the test starts (`s3_backend_passes_every_scenario`, ignored
//! on the default pass, run with `-- --include-ignored`). `memory.rs`
//! uploads and downloads a large blob through the spawned binary and
//! watches its RSS.

// Test helpers panic to fail the test.
#![allow(clippy::expect_used)]

mod common;
mod memory;
mod scenarios;

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    let h = crate::common::Harness::local().await;
                    crate::scenarios::$name(&h).await;
                    h.stop().await;
                }
            )*
        }

        #[tokio::test]
        #[ignore = "needs SeaweedFS (weed): runs on the full pass (-- --include-ignored)"]
        async fn s3_backend_passes_every_scenario() {
            let weed = passerelle_test_support::weed::Weed::start().await;
            let h = crate::common::Harness::s3(&weed).await;
            $(
                eprintln!("s3 scenario: {}", stringify!($name));
                crate::scenarios::$name(&h).await;
            )*
            h.stop().await;
        }
    };
}

suite!(
    round_trip_put_head_get,
    empty_blob,
    ranges,
    if_none_match,
    create_only,
    digest_mismatch_keeps_nothing,
    capability_digest_wins,
    short_and_long_bodies_keep_nothing,
    too_big,
    missing_length_and_digest,
    bad_capabilities,
    capability_for_another_blob_or_op,
    access_token_is_not_a_capability,
    bad_ids,
    delete_is_idempotent,
    multi_part_blob,
    health_and_unknown_routes,
);
