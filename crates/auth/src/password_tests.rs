//! Tests of [`super::PasswordHasher`]: round trip, wrong password, the
//! unknown-user path (dummy hash), and that nothing secret shows in Debug.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::*;

fn small() -> PasswordHasher {
    PasswordHasher::new(
        Argon2Params {
            memory_kib: 8192,
            iterations: 1,
            parallelism: 1,
        },
        2,
    )
    .unwrap()
}

fn pw(s: &str) -> Password {
    Password::offered(s.to_owned()).unwrap()
}

#[tokio::test]
async fn hash_then_verify() {
    let h = small();
    let stored = h.hash(&pw("correct horse battery")).await.unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"),
        "{stored}"
    );
    assert!(
        h.verify(&pw("correct horse battery"), Some(&stored))
            .await
            .unwrap()
    );
    assert!(
        !h.verify(&pw("wrong horse battery"), Some(&stored))
            .await
            .unwrap()
    );
    // Same password, new salt.
    let again = h.hash(&pw("correct horse battery")).await.unwrap();
    assert_ne!(stored, again);
}

#[tokio::test]
async fn missing_hash_is_false_and_runs_argon2() {
    let h = small();
    let stored = h.hash(&pw("correct horse battery")).await.unwrap();
    // Even the dummy's own preimage is unknown, but make sure None is false
    // whatever is typed.
    assert!(!h.verify(&pw("correct horse battery"), None).await.unwrap());
    assert!(!h.verify(&pw(""), None).await.unwrap());

    let before = h.inner.argon2_runs.load(Ordering::SeqCst);
    assert!(!h.verify(&pw("anything at all"), None).await.unwrap());
    assert_eq!(h.inner.argon2_runs.load(Ordering::SeqCst), before + 1);

    // Timing: the unknown-user path costs about as much as a wrong password
    // (the same order of magnitude: a path that skipped argon2 would be a
    // thousand times faster; the run counter above is the exact check).
    // The fastest of several runs of each, so that a busy machine (other
    // tests, builds) slowing one run down cannot decide the comparison.
    let mut none_best = Duration::MAX;
    let mut wrong_best = Duration::MAX;
    for _ in 0..12 {
        let t = Instant::now();
        h.verify(&pw("nobody's password"), None).await.unwrap();
        none_best = none_best.min(t.elapsed());
        let t = Instant::now();
        h.verify(&pw("wrong password!"), Some(&stored))
            .await
            .unwrap();
        wrong_best = wrong_best.min(t.elapsed());
    }
    assert!(
        none_best * 4 >= wrong_best,
        "verify(None) {none_best:?} vs verify(wrong) {wrong_best:?}"
    );
}

#[tokio::test]
async fn corrupt_stored_hash_is_an_internal_error() {
    let h = small();
    let err = h
        .verify(&pw("whatever pw"), Some("not-a-phc"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Internal(_)));
}

#[test]
fn bad_params_are_config_errors() {
    let p = Argon2Params {
        memory_kib: 1,
        iterations: 1,
        parallelism: 1,
    };
    assert!(matches!(
        PasswordHasher::new(p, 1),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        PasswordHasher::new(Argon2Params::default(), 0),
        Err(AuthError::Config(_))
    ));
    assert_eq!(
        Argon2Params::default(),
        Argon2Params {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1
        }
    );
}

#[test]
fn debug_shows_no_hash() {
    let h = small();
    let dbg = format!("{h:?}");
    assert!(!dbg.contains("argon2id"), "{dbg}");
    assert!(!dbg.contains(&h.inner.dummy), "{dbg}");
    assert!(dbg.contains("memory_kib"));
}
