//! The shared session registry on a real Redis, seen from two nodes.

#![allow(clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{namespace, redis_url};
use passerelle_bus::{Admission, Caps, RedisLink, SessionRegistry};
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(30);

fn two_nodes() -> (SessionRegistry, SessionRegistry) {
    let ns = namespace();
    let node = || SessionRegistry::shared(RedisLink::open(&redis_url(), &ns).expect("link"));
    (node(), node())
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn caps_hold_across_nodes() {
    let (a, b) = two_nodes();
    let caps = Caps {
        per_device: 2,
        per_user: 3,
    };
    let (user, d1, d2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let c1 = Uuid::new_v4();
    let reg = |node: &SessionRegistry, device, conn| {
        let node = node.clone();
        async move {
            node.register(user, device, conn, TTL, caps)
                .await
                .expect("register (is Redis up?)")
        }
    };
    assert_eq!(reg(&a, d1, c1).await, Admission::Admitted);
    assert_eq!(reg(&b, d1, Uuid::new_v4()).await, Admission::Admitted);
    assert_eq!(
        reg(&a, d1, Uuid::new_v4()).await,
        Admission::TooManyForDevice
    );
    assert_eq!(
        reg(&b, d1, c1).await,
        Admission::Admitted,
        "re-registering is admitted"
    );
    let c3 = Uuid::new_v4();
    assert_eq!(reg(&b, d2, c3).await, Admission::Admitted);
    assert_eq!(reg(&a, d2, Uuid::new_v4()).await, Admission::TooManyForUser);
    assert_eq!(a.list(user).await.expect("list").len(), 3);

    b.unregister(user, d2, c3).await.expect("unregister");
    let listed = a.list(user).await.expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&(d1, c1)) && !listed.contains(&(d2, c3)));
    assert_eq!(reg(&a, d2, Uuid::new_v4()).await, Admission::Admitted);
    assert!(a.list(Uuid::new_v4()).await.expect("list").is_empty());

    let unlimited = Caps::default();
    for _ in 0..10 {
        let r = a.register(user, d1, Uuid::new_v4(), TTL, unlimited).await;
        assert_eq!(r.expect("register"), Admission::Admitted);
    }
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn entries_expire_unless_refreshed() {
    let (a, b) = two_nodes();
    let caps = Caps {
        per_device: 0,
        per_user: 1,
    };
    let (user, device) = (Uuid::new_v4(), Uuid::new_v4());
    let (kept, dropped) = (Uuid::new_v4(), Uuid::new_v4());
    let short = Duration::from_millis(300);
    assert_eq!(
        a.register(user, device, dropped, short, caps)
            .await
            .expect("register"),
        Admission::Admitted
    );
    assert_eq!(
        b.register(user, device, kept, short, caps)
            .await
            .expect("register"),
        Admission::TooManyForUser
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(b.list(user).await.expect("list").is_empty(), "expired");
    assert_eq!(
        b.register(user, device, kept, short, caps)
            .await
            .expect("register"),
        Admission::Admitted,
        "an expired entry doesn't count"
    );
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        b.refresh(user, device, kept, short).await.expect("refresh");
    }
    assert_eq!(a.list(user).await.expect("list"), vec![(device, kept)]);
    assert_eq!(
        a.register(user, device, dropped, short, caps)
            .await
            .expect("register"),
        Admission::TooManyForUser
    );
    // The key itself expires with its last entry (a dead node leaves nothing).
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(a.list(user).await.expect("list").is_empty());
}
