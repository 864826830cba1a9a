//! Unit tests of the Redis fan-out that need no server.

use super::*;

#[tokio::test]
async fn channels_round_trip_and_foreign_ones_are_ignored() {
    let (fanout, _rx) =
        RedisFanout::open("redis://127.0.0.1:1", "ns", 4).expect("lazy open never connects");
    let s = &fanout.shared;
    let user = Uuid::new_v4();
    assert_eq!(s.channel(user), format!("ns:u:{user}"));
    assert_eq!(s.user_of(s.channel(user).as_bytes()), Some(user));
    assert_eq!(s.user_of(format!("other:u:{user}").as_bytes()), None);
    assert_eq!(s.user_of(b"ns:u:not-a-uuid"), None);
}

#[test]
fn open_outside_a_runtime_is_a_config_error() {
    assert!(matches!(
        RedisFanout::open("redis://127.0.0.1:1", "ns", 4),
        Err(BusError::Config(_))
    ));
}

#[tokio::test]
#[ignore = "needs Redis: runs on the Postgres + Redis pass (-- --include-ignored)"]
async fn an_overflowing_hub_queue_gets_one_resync() {
    let url = std::env::var("PASSERELLE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let ns = format!("test-{}", Uuid::new_v4().simple());
    let (fanout, mut rx) = RedisFanout::open(&url, &ns, 2).expect("open");
    let user = Uuid::new_v4();
    fanout
        .subscribe(user)
        .await
        .expect("subscribe (is Redis up?)");
    let items = (0..10u8).map(|i| (user, Bytes::from(vec![i]))).collect();
    fanout.publish(items).await.expect("publish");
    // Let every push arrive (and all but two be dropped) before draining.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("event in time")
            .expect("queue open")
    };
    for i in 0..2u8 {
        let want = FanoutEvent::Delivery {
            user,
            bytes: Bytes::from(vec![i]),
        };
        assert_eq!(next().await, want);
    }
    assert_eq!(next().await, FanoutEvent::Resync);
    let quiet = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await;
    assert!(quiet.is_err(), "one Resync, nothing more: {quiet:?}");
}
