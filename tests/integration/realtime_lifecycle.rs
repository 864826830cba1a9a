//! Session lifecycle: revocation, token expiry and hand-over, heartbeat,
//! limits, slow consumers, retention, graceful shutdown.

use std::time::Duration;

use passerelle_client::ws::{DeviceChange, FrameErrorCode, ServerFrame, close};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn revoking_logging_out_or_deleting_closes_sessions_at_once() {
    let s = server().await;
    let a = register(&s, "rev_a").await;
    let b = login_ok(&s, "rev_a").await;
    let c = login_ok(&s, "rev_a").await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let (mut cc, _) = ws_resumed(&s, &c, None).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;

    let started = std::time::Instant::now();
    let path = format!("/v1/devices/{}", b.device_id);
    assert_eq!(
        authed(&s, Method::DELETE, &path, &a.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(closed_with(&mut cb).await, close::REVOKED);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "within a second: {:?}",
        started.elapsed()
    );
    // The others stay open, and hear of the revocation (`devices`).
    assert!(matches!(
        next(&mut ca).await,
        ServerFrame::Devices { payload, .. }
            if payload.device_id.to_string() == b.device_id
                && payload.change == DeviceChange::Revoked
    ));
    ca.ping().await.unwrap();
    assert!(matches!(next(&mut ca).await, ServerFrame::Pong { .. }));

    assert_eq!(
        authed(&s, Method::POST, "/v1/auth/logout", &c.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(closed_with(&mut cc).await, close::REVOKED);

    let resp = authed(&s, Method::DELETE, "/v1/me", &a.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(closed_with(&mut ca).await, close::REVOKED);
}

#[tokio::test]
async fn password_change_closes_the_other_devices_sessions() {
    let s = server().await;
    let a = register(&s, "pw_a").await;
    let b = login_ok(&s, "pw_a").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let resp = authed(&s, Method::POST, "/v1/me/password", &a.access)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "another good one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(closed_with(&mut cb).await, close::REVOKED);
    // The device that stays hears of the one revoked.
    assert!(matches!(
        next(&mut ca).await,
        ServerFrame::Devices { payload, .. }
            if payload.device_id.to_string() == b.device_id
                && payload.change == DeviceChange::Revoked
    ));
    ca.ping().await.unwrap();
    assert!(matches!(next(&mut ca).await, ServerFrame::Pong { .. }));
}

#[tokio::test]
async fn expiring_tokens_close_the_session_unless_a_fresh_one_is_handed_over() {
    let s = builder()
        .env("PASSERELLE__AUTH__ACCESS_TOKEN_TTL_SECS", "4")
        .env("PASSERELLE__AUTH__LEEWAY_SECS", "0")
        .spawn()
        .await;
    let a = register(&s, "exp_a").await;
    let b = login_ok(&s, "exp_a").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    // Device b hands over a fresh token in time, and a forged one is refused.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let fresh = refresh_ok(&s, &b.refresh).await;
    cb.reauth("not.a.token").await.unwrap();
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Error { payload, .. } if payload.code == FrameErrorCode::Unauthorized)
    );
    cb.reauth(&a.access).await.unwrap();
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Error { payload, .. } if payload.code == FrameErrorCode::Unauthorized),
        "another device's token"
    );
    cb.reauth(&fresh.access).await.unwrap();
    assert!(matches!(
        next(&mut cb).await,
        ServerFrame::Authenticated { .. }
    ));
    assert_eq!(closed_with(&mut ca).await, close::TOKEN_EXPIRED);
    cb.ping().await.unwrap();
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Pong { .. }),
        "b outlived a's expiry"
    );
}

#[tokio::test]
async fn silent_clients_are_closed_after_three_heartbeats() {
    let s = builder()
        .env("PASSERELLE__WS__HEARTBEAT_SECS", "1")
        .spawn()
        .await;
    let a = register(&s, "hb_a").await;
    let mut conn = ws(&s, &a).await;
    // Not reading means not answering pings. The client may find the socket
    // already gone when it reads again; the server's log says why it ended.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let _ = conn.next_timeout(Duration::from_secs(2)).await;
    let ended = s.logs().iter().any(|l| {
        l.contains("session closed") && l.contains("4000") && l.contains("no answer to pings")
    });
    assert!(ended, "the session ended with 4000");
    // A client that keeps reading answers pings and stays.
    let mut live = ws(&s, &a).await;
    quiet(&mut live, 4500).await;
    live.ping().await.unwrap();
    assert!(matches!(next(&mut live).await, ServerFrame::Pong { .. }));
}

#[tokio::test]
async fn rate_limits_warn_then_close_and_big_frames_close() {
    let s = builder()
        .env("PASSERELLE__WS__FRAMES_PER_SEC", "5")
        .env("PASSERELLE__WS__FRAME_BURST", "5")
        .env("PASSERELLE__WS__MAX_FRAME_BYTES", "4096")
        .spawn()
        .await;
    let a = register(&s, "rl_a").await;
    let mut conn = ws(&s, &a).await;
    for _ in 0..8 {
        conn.ping().await.unwrap();
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..8 {
        match next(&mut conn).await {
            ServerFrame::Pong { .. } => pongs += 1,
            ServerFrame::Error { payload, .. } if payload.code == FrameErrorCode::RateLimited => {
                limited += 1
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((pongs, limited), (5, 3));
    for _ in 0..20 {
        if conn.ping().await.is_err() {
            break;
        }
    }
    assert_eq!(closed_with(&mut conn).await, close::POLICY);

    let mut conn = ws(&s, &a).await;
    let big = format!(
        r#"{{"type":"ping","payload":{{}},"id":"{}"}}"#,
        "x".repeat(5000)
    );
    let _ = conn.send_raw(&big).await;
    assert_eq!(closed_with(&mut conn).await, close::TOO_BIG);
}

#[tokio::test]
async fn session_caps_per_device() {
    let s = builder()
        .env("PASSERELLE__WS__MAX_SESSIONS_PER_DEVICE", "2")
        .spawn()
        .await;
    let a = register(&s, "cap_a").await;
    let _one = ws(&s, &a).await;
    let _two = ws(&s, &a).await;
    let client = passerelle_client::Client::new(&s.url(""));
    let mut three = client.connect(&a.access).await.expect("upgrade");
    assert_eq!(closed_with(&mut three).await, close::TOO_MANY_SESSIONS);
    drop(_two);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _again = ws(&s, &a).await;
}

#[tokio::test]
async fn resuming_before_retained_events_says_truncated() {
    let s = builder()
        .env("PASSERELLE__ROUTING__ACKED_GRACE_SECS", "0")
        .env("PASSERELLE__ROUTING__SWEEP_INTERVAL_SECS", "1")
        .spawn()
        .await;
    let a = register(&s, "tr_a").await;
    let b = register(&s, "tr_b").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    for _ in 0..3 {
        ca.send_message(message_to(&b.user_id)).await.unwrap();
        assert!(matches!(next(&mut ca).await, ServerFrame::Sent { .. }));
    }
    let (mut cb, replayed) = ws_resumed(&s, &b, Some(0)).await;
    assert_eq!(replayed.len(), 3);
    cb.ack(2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(cb);
    let mut conn = ws(&s, &b).await;
    conn.resume(Some(0)).await.unwrap();
    match next(&mut conn).await {
        ServerFrame::Truncated { payload, .. } => {
            assert_eq!(payload.requested_after, 0);
            assert_eq!(payload.oldest_seq, 3);
        }
        other => panic!("expected truncated, got {other:?}"),
    }
    assert_eq!(next(&mut conn).await.seq(), Some(3));
    assert!(
        matches!(next(&mut conn).await, ServerFrame::Synced { payload, .. } if payload.last_seq == 3)
    );
}

#[tokio::test]
async fn sigterm_tells_every_session_to_reconnect_and_exits() {
    let mut s = builder()
        .env("PASSERELLE__SERVER__SHUTDOWN_TIMEOUT_SECS", "5")
        .spawn()
        .await;
    let a = register(&s, "sd_a").await;
    let b = login_ok(&s, "sd_a").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let pid = s.pid().expect("pid");
    let started = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(closed_with(&mut ca).await, close::RESTART);
    assert_eq!(closed_with(&mut cb).await, close::RESTART);
    assert_eq!(
        s.wait(Duration::from_secs(10)).await,
        Some(true),
        "exits cleanly"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "well within the deadline: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_consumer_is_closed_and_loses_nothing() {
    let s = builder()
        .env("PASSERELLE__WS__OUTBOUND_QUEUE", "8")
        // Bob reads nothing (so answers no ping) while the flood is sent: on
        // a busy machine that can outlast three default heartbeats, and a
        // heartbeat close (4000) is not what this test is about.
        .env("PASSERELLE__WS__HEARTBEAT_SECS", "300")
        .env("PASSERELLE__WS__SOCKET_SEND_BUFFER", "16384")
        .env("PASSERELLE__WS__FRAMES_PER_SEC", "100000")
        .env("PASSERELLE__WS__FRAME_BURST", "100000")
        .spawn()
        .await;
    let a = register(&s, "slow_a").await;
    let b = register(&s, "slow_b").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    // Bob (a small socket buffer: a slow phone) resumes, then stops reading
    // while a flood arrives. Alice reads all along (she must not be a slow
    // consumer herself).
    let opts = passerelle_client::ConnectOptions::default().socket_recv_buffer(4096);
    let mut cb = passerelle_client::Client::new(&s.url(""))
        .connect_with(&b.access, opts)
        .await
        .unwrap();
    cb.greeting().await.expect("ready, then unread");
    cb.resume(None).await.unwrap();
    assert!(matches!(next(&mut cb).await, ServerFrame::Synced { .. }));
    // Waves of 20 (each waits for its `sent`s): at least 150 batches, so
    // at least 150 queue items for Bob, whatever the batch sizes.
    let total = 3000;
    let mut ids = Vec::new();
    for _wave in 0..total / 20 {
        for _ in 0..20 {
            let mut m = message_to(&b.user_id);
            m.session_id = "s".repeat(128);
            ids.push(m.message_id);
            ca.send_message(m).await.unwrap();
        }
        let mut sent = 0;
        while sent < 20 {
            if let ServerFrame::Sent { .. } = next(&mut ca).await {
                sent += 1;
            }
        }
    }
    // Now read: whatever arrived, then the 4008 close.
    let mut got = Vec::new();
    let code = loop {
        match cb.next_timeout(Duration::from_secs(10)).await {
            Ok(Some(ServerFrame::Message { seq, payload })) => got.push((seq, payload.message_id)),
            Ok(Some(_)) => {}
            Ok(None) => panic!("neither closed nor done after {} of {total}", got.len()),
            Err(passerelle_client::ClientError::Closed { code, .. }) => break code,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(code, close::SLOW_CONSUMER);
    assert!(got.len() < total);
    // Reconnect and resume after what was received: everything, once.
    let after = got.last().map_or(0, |g| g.0);
    let (mut again, replayed) = ws_resumed(&s, &b, Some(after)).await;
    for f in replayed {
        if let ServerFrame::Message { seq, payload } = f {
            got.push((seq, payload.message_id));
        }
    }
    while got.len() < total {
        if let ServerFrame::Message { seq, payload } = next(&mut again).await {
            got.push((seq, payload.message_id));
        }
    }
    let seqs: Vec<u64> = got.iter().map(|g| g.0).collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), ids);
}
