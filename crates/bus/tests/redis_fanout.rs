//! Two fan-out "nodes" on one Redis: deliveries reach exactly the subscribed
//! node, in order, and stop after unsubscribing.

#![allow(clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{expect_silence, namespace, next_event, redis_url};
use passerelle_bus::{Fanout, FanoutEvent};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn deliveries_reach_the_subscribed_node_in_order() {
    let ns = namespace();
    let (a, mut a_rx) = Fanout::redis(&redis_url(), &ns).expect("node A");
    let (b, mut b_rx) = Fanout::redis(&redis_url(), &ns).expect("node B");
    let user = Uuid::new_v4();
    let other = Uuid::new_v4();
    b.subscribe(user).await.expect("subscribe (is Redis up?)");
    b.subscribe(user)
        .await
        .expect("subscribing twice is harmless");

    // Many items, several batches, interleaved with another user's.
    let total = 2_000usize;
    for batch in (0..total).collect::<Vec<_>>().chunks(250) {
        let mut items = Vec::new();
        for i in batch {
            items.push((user, Bytes::from(i.to_string())));
            items.push((other, Bytes::from_static(b"not for B")));
        }
        a.publish(items).await.expect("publish");
    }
    for i in 0..total {
        let want = FanoutEvent::Delivery {
            user,
            bytes: Bytes::from(i.to_string()),
        };
        assert_eq!(next_event(&mut b_rx, WAIT).await, want, "item {i}");
    }
    // Each item exactly once, and nothing for A, which subscribed nobody.
    expect_silence(&mut b_rx, Duration::from_millis(300)).await;
    expect_silence(&mut a_rx, Duration::from_millis(10)).await;

    b.unsubscribe(user).await.expect("unsubscribe");
    b.unsubscribe(user)
        .await
        .expect("unsubscribing twice is harmless");
    a.publish(vec![(user, Bytes::from_static(b"late"))])
        .await
        .expect("publish");
    expect_silence(&mut b_rx, Duration::from_millis(300)).await;
    expect_silence(&mut a_rx, Duration::from_millis(10)).await;
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn both_nodes_and_the_publisher_itself_receive() {
    let ns = namespace();
    let (a, mut a_rx) = Fanout::redis(&redis_url(), &ns).expect("node A");
    let (b, mut b_rx) = Fanout::redis(&redis_url(), &ns).expect("node B");
    let (c, mut c_rx) =
        Fanout::redis(&redis_url(), &namespace()).expect("node of another deployment");
    let user = Uuid::new_v4();
    a.subscribe(user).await.expect("subscribe A");
    b.subscribe(user).await.expect("subscribe B");
    c.subscribe(user).await.expect("subscribe C");
    a.publish(vec![(user, Bytes::from_static(b"x"))])
        .await
        .expect("publish");
    let want = FanoutEvent::Delivery {
        user,
        bytes: Bytes::from_static(b"x"),
    };
    assert_eq!(next_event(&mut a_rx, WAIT).await, want);
    assert_eq!(next_event(&mut b_rx, WAIT).await, want);
    expect_silence(&mut c_rx, Duration::from_millis(300)).await;
    a.publish(Vec::new())
        .await
        .expect("an empty batch is a no-op");
}
