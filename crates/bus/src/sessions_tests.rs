//! Unit tests of the in-process session registry (same semantics as the
//! Redis one, which `tests/redis_sessions.rs` checks against a real server).

use super::*;

const TTL: Duration = Duration::from_secs(30);

fn ids() -> (Uuid, Uuid, Uuid) {
    (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4())
}

#[test]
fn caps_per_device_and_per_user() {
    let mut s = LocalSessions::default();
    let now = Instant::now();
    let caps = Caps {
        per_device: 2,
        per_user: 3,
    };
    let (user, d1, d2) = ids();
    let c = || Uuid::new_v4();
    assert_eq!(
        s.register(user, (d1, c()), TTL, caps, now),
        Admission::Admitted
    );
    assert_eq!(
        s.register(user, (d1, c()), TTL, caps, now),
        Admission::Admitted
    );
    assert_eq!(
        s.register(user, (d1, c()), TTL, caps, now),
        Admission::TooManyForDevice
    );
    assert_eq!(
        s.register(user, (d2, c()), TTL, caps, now),
        Admission::Admitted
    );
    assert_eq!(
        s.register(user, (d2, c()), TTL, caps, now),
        Admission::TooManyForUser
    );
    // Other users are counted apart.
    assert_eq!(
        s.register(c(), (d2, c()), TTL, caps, now),
        Admission::Admitted
    );
    assert_eq!(s.list(user, now).len(), 3);
}

#[test]
fn zero_caps_are_unlimited_and_re_registering_is_admitted() {
    let mut s = LocalSessions::default();
    let now = Instant::now();
    let (user, device, conn) = ids();
    for _ in 0..50 {
        let entry = (device, Uuid::new_v4());
        assert_eq!(
            s.register(user, entry, TTL, Caps::default(), now),
            Admission::Admitted
        );
    }
    let full = Caps {
        per_device: 1,
        per_user: 1,
    };
    let other = Uuid::new_v4();
    assert_eq!(
        s.register(other, (device, conn), TTL, full, now),
        Admission::Admitted
    );
    assert_eq!(
        s.register(other, (device, conn), TTL, full, now),
        Admission::Admitted
    );
    assert_eq!(s.list(other, now), vec![(device, conn)]);
}

#[test]
fn expired_entries_do_not_count_and_refresh_extends() {
    let mut s = LocalSessions::default();
    let t0 = Instant::now();
    let caps = Caps {
        per_device: 0,
        per_user: 1,
    };
    let (user, device, conn) = ids();
    let ttl = Duration::from_secs(10);
    assert_eq!(
        s.register(user, (device, conn), ttl, caps, t0),
        Admission::Admitted
    );
    let other = (device, Uuid::new_v4());
    assert_eq!(
        s.register(user, other, ttl, caps, t0),
        Admission::TooManyForUser
    );

    s.refresh(user, (device, conn), ttl, t0 + Duration::from_secs(8));
    let t1 = t0 + Duration::from_secs(12);
    assert_eq!(
        s.list(user, t1),
        vec![(device, conn)],
        "refreshed entry is live"
    );
    assert_eq!(
        s.register(user, other, ttl, caps, t1),
        Admission::TooManyForUser
    );

    let t2 = t0 + Duration::from_secs(18);
    assert!(
        s.list(user, t2).is_empty(),
        "expired after the refreshed ttl"
    );
    assert_eq!(s.register(user, other, ttl, caps, t2), Admission::Admitted);
}

#[test]
fn unregister_frees_the_slot() {
    let mut s = LocalSessions::default();
    let now = Instant::now();
    let caps = Caps {
        per_device: 1,
        per_user: 0,
    };
    let (user, device, conn) = ids();
    assert_eq!(
        s.register(user, (device, conn), TTL, caps, now),
        Admission::Admitted
    );
    let next = (device, Uuid::new_v4());
    assert_eq!(
        s.register(user, next, TTL, caps, now),
        Admission::TooManyForDevice
    );
    s.unregister(user, (device, conn));
    s.unregister(user, (device, conn));
    assert_eq!(s.register(user, next, TTL, caps, now), Admission::Admitted);
    assert_eq!(s.list(user, now), vec![next]);
    assert!(s.list(Uuid::new_v4(), now).is_empty());
}

#[test]
fn members_parse_back() {
    let (_, device, conn) = ids();
    assert_eq!(parse_member(&member(device, conn)), Some((device, conn)));
    assert_eq!(parse_member("garbage"), None);
    assert_eq!(millis(Duration::ZERO), 1);
}

#[tokio::test]
async fn local_registry_through_the_public_api() {
    let registry = SessionRegistry::local();
    let (user, device, conn) = ids();
    let caps = Caps {
        per_device: 1,
        per_user: 1,
    };
    let short = Duration::from_millis(50);
    let reg = |c| registry.register(user, device, c, short, caps);
    assert_eq!(reg(conn).await.expect("register"), Admission::Admitted);
    assert_eq!(
        reg(Uuid::new_v4()).await.expect("register"),
        Admission::TooManyForDevice
    );
    registry
        .refresh(user, device, conn, TTL)
        .await
        .expect("refresh");
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(
        registry.list(user).await.expect("list"),
        vec![(device, conn)]
    );
    registry
        .unregister(user, device, conn)
        .await
        .expect("unregister");
    assert!(registry.list(user).await.expect("list").is_empty());
    assert_eq!(reg(conn).await.expect("register"), Admission::Admitted);
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(
        registry.list(user).await.expect("list").is_empty(),
        "expired"
    );
}
