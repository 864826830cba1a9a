//! Loss repair against a private `redis-server` that is killed and
//! restarted: the subscribed node emits `Resync` and hears publishes again;
//! a node created while Redis is down catches up once it is up.

#![allow(clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{RedisServer, next_event, wait_resync};
use passerelle_bus::{BusError, Fanout, FanoutEvent};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(5);

/// Publishes until Redis takes it (the publisher's link may be reconnecting).
async fn publish_eventually(node: &Fanout, user: Uuid, bytes: &'static [u8]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while let Err(e) = node.publish(vec![(user, Bytes::from_static(bytes))]).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "publish kept failing: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn delivery(user: Uuid, bytes: &'static [u8]) -> FanoutEvent {
    FanoutEvent::Delivery {
        user,
        bytes: Bytes::from_static(bytes),
    }
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn subscriptions_come_back_after_a_redis_restart() {
    let port = RedisServer::free_port();
    let mut server = RedisServer::start(port);
    let ns = "restart";
    let (a, _a_rx) = Fanout::redis(&server.url(), ns).expect("node A");
    let (b, mut b_rx) = Fanout::redis(&server.url(), ns).expect("node B");
    let users: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    for user in &users {
        b.subscribe(*user).await.expect("subscribe");
    }
    publish_eventually(&a, users[0], b"before").await;
    assert_eq!(
        next_event(&mut b_rx, WAIT).await,
        delivery(users[0], b"before")
    );

    for round in 0..2 {
        drop(server);
        server = RedisServer::start(port);
        wait_resync(&mut b_rx, WAIT).await;
        for user in &users {
            publish_eventually(&a, *user, b"after").await;
            assert_eq!(
                next_event(&mut b_rx, WAIT).await,
                delivery(*user, b"after"),
                "round {round}: subscription of {user} is back"
            );
        }
    }
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn a_node_started_while_redis_is_down_catches_up() {
    let port = RedisServer::free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let (a, _a_rx) = Fanout::redis(&url, "late").expect("starts without Redis");
    let (b, mut b_rx) = Fanout::redis(&url, "late").expect("starts without Redis");
    let user = Uuid::new_v4();
    assert!(matches!(
        b.subscribe(user).await,
        Err(BusError::Unavailable(_))
    ));
    assert!(matches!(
        a.publish(vec![(user, Bytes::from_static(b"lost"))]).await,
        Err(BusError::Unavailable(_))
    ));

    let _server = RedisServer::start(port);
    wait_resync(&mut b_rx, WAIT).await;
    publish_eventually(&a, user, b"hello").await;
    assert_eq!(next_event(&mut b_rx, WAIT).await, delivery(user, b"hello"));
}
