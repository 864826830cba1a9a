//! The routing core end to end: the seed frame between two users' devices,
//! multi-device fan-out, idempotency, strict frames, resume, receipts.

use std::collections::BTreeSet;

use passerelle_client::ws::{FrameErrorCode, ServerFrame};
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn the_seed_frame_reaches_every_device_of_both_users() {
    let s = server().await;
    let a1 = register(&s, "alice").await;
    let a2 = login_ok(&s, "alice").await;
    let b1 = register(&s, "bob").await;
    let b2 = login_ok(&s, "bob").await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;
    let (mut cb2, _) = ws_resumed(&s, &b2, None).await;

    // The original frame, byte for byte, with the ids filled in.
    let message_id = uuid::Uuid::new_v4();
    let seed = format!(
        r#"{{"type":"message","payload":{{"messageId":"{message_id}","recipientId":"{}","timestamp":"2024-01-01T00:00:00Z","sessionId":"<string>","messageType":"text"}}}}"#,
        b1.user_id
    );
    ca1.send_raw(&seed).await.unwrap();
    let sent = match next(&mut ca1).await {
        ServerFrame::Sent { payload, .. } => payload,
        other => panic!("expected sent, got {other:?}"),
    };
    assert_eq!(sent.message_id, message_id);
    assert!(!sent.duplicate);
    for conn in [&mut cb1, &mut cb2, &mut ca2] {
        let raw: Value = serde_json::from_str(&conn.next_raw().await.unwrap()).unwrap();
        assert_eq!(raw["type"], "message");
        assert!(raw["seq"].as_u64().unwrap() >= 1);
        let p = &raw["payload"];
        assert_eq!(p["messageId"], message_id.to_string());
        assert_eq!(p["senderId"], a1.user_id.as_str());
        assert_eq!(p["senderDeviceId"], a1.device_id.as_str());
        assert_eq!(p["recipientId"], b1.user_id.as_str());
        assert_eq!(p["sessionId"], "<string>");
        assert_eq!(p["timestamp"], "2024-01-01T00:00:00Z");
        assert_eq!(p["serverId"], sent.server_id.to_string());
        assert!(p["serverTimestamp"].is_string());
        let keys: BTreeSet<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        for forbidden in ["content", "body", "text", "ciphertext", "key"] {
            assert!(!keys.contains(forbidden), "metadata only: {keys:?}");
        }
    }
    // The sending session does not get its own message back.
    quiet(&mut ca1, 300).await;
}

#[tokio::test]
async fn resending_a_message_id_delivers_nothing_twice() {
    let s = server().await;
    let a = register(&s, "carol").await;
    let b = register(&s, "dan").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let m = message_to(&b.user_id);
    let mut acks = Vec::new();
    for _ in 0..3 {
        ca.send_message(m.clone()).await.unwrap();
        match next(&mut ca).await {
            ServerFrame::Sent { payload, .. } => acks.push(payload),
            other => panic!("{other:?}"),
        }
    }
    assert!(!acks[0].duplicate && acks[1].duplicate && acks[2].duplicate);
    assert!(
        acks.iter()
            .all(|s| s.server_id == acks[0].server_id && s.seq == acks[0].seq)
    );
    assert!(matches!(next(&mut cb).await, ServerFrame::Message { .. }));
    quiet(&mut cb, 400).await;
    // Another sender cannot reuse it.
    let mut stolen = message_to(&a.user_id);
    stolen.message_id = m.message_id;
    cb.send_message(stolen).await.unwrap();
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Error { payload, .. } if payload.code == FrameErrorCode::MessageIdTaken)
    );
}

#[tokio::test]
async fn strict_frames_are_refused_and_the_session_stays_open() {
    let s = server().await;
    let a = register(&s, "erin").await;
    let (mut c, _) = ws_resumed(&s, &a, None).await;
    let cases = [
        ("not json", FrameErrorCode::InvalidFrame, ""),
        (
            r#"{"type":"ping","payload":{},"smuggled":"x"}"#,
            FrameErrorCode::InvalidFrame,
            "smuggled",
        ),
        (
            r#"{"type":"call","payload":{}}"#,
            FrameErrorCode::UnknownType,
            "call",
        ),
        (
            r#"{"type":"presence","payload":{}}"#,
            FrameErrorCode::InvalidPayload,
            "status",
        ),
        (
            r#"{"type":"typing","payload":{}}"#,
            FrameErrorCode::InvalidPayload,
            "conversationId",
        ),
        (
            r#"{"type":"ack","id":"x1","payload":{"seq":"1"}}"#,
            FrameErrorCode::InvalidPayload,
            "invalid type",
        ),
        (
            &format!(
                r#"{{"type":"message","payload":{{"messageId":"{}","recipientId":"{}","timestamp":"2024-01-01T00:00:00Z","sessionId":"s","messageType":"text","content":"hello"}}}}"#,
                uuid::Uuid::new_v4(),
                a.user_id
            ),
            FrameErrorCode::InvalidPayload,
            "content",
        ),
        (
            &format!(
                r#"{{"type":"message","payload":{{"messageId":"{}","recipientId":"{}","timestamp":"2024-01-01T00:00:00Z","sessionId":"s","messageType":"poem"}}}}"#,
                uuid::Uuid::new_v4(),
                a.user_id
            ),
            FrameErrorCode::InvalidPayload,
            "poem",
        ),
        (
            &format!(
                r#"{{"type":"message","payload":{{"messageId":"{}","recipientId":"{}","timestamp":"2024-01-01T00:00:00Z","sessionId":"s","messageType":"text","blobId":"../etc/passwd"}}}}"#,
                uuid::Uuid::new_v4(),
                a.user_id
            ),
            FrameErrorCode::ValidationFailed,
            "blobId",
        ),
        (
            &format!(
                r#"{{"type":"message","payload":{{"messageId":"{}","recipientId":"{}","timestamp":"2024-01-01T00:00:00Z","sessionId":"s","messageType":"text"}}}}"#,
                uuid::Uuid::new_v4(),
                uuid::Uuid::new_v4()
            ),
            FrameErrorCode::NotFound,
            "recipient",
        ),
    ];
    for (text, code, hint) in cases {
        c.send_raw(text).await.unwrap();
        match next(&mut c).await {
            ServerFrame::Error { payload, .. } => {
                assert_eq!(payload.code, code, "{text}: {}", payload.message);
                assert!(
                    payload.message.contains(hint),
                    "{} should name {hint}",
                    payload.message
                );
            }
            other => panic!("{text}: expected an error, got {other:?}"),
        }
    }
    c.ping().await.unwrap();
    assert!(
        matches!(next(&mut c).await, ServerFrame::Pong { .. }),
        "still open"
    );
}

#[tokio::test]
async fn an_offline_device_resumes_exactly_and_acks_send_receipts() {
    let s = server().await;
    let a1 = register(&s, "fay").await;
    let a2 = login_ok(&s, "fay").await;
    let b = register(&s, "gus").await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let m = message_to(&b.user_id);
        ids.push(m.message_id);
        ca1.send_message(m).await.unwrap();
        assert!(matches!(next(&mut ca1).await, ServerFrame::Sent { .. }));
    }
    for _ in 0..5 {
        assert!(
            matches!(next(&mut ca2).await, ServerFrame::Message { .. }),
            "sync copies"
        );
    }
    // Bob was offline: he resumes from the start and gets all five in order.
    let (mut cb, replayed) = ws_resumed(&s, &b, Some(0)).await;
    let got: Vec<(u64, uuid::Uuid)> = replayed
        .iter()
        .map(|f| match f {
            ServerFrame::Message { seq, payload } => (*seq, payload.message_id),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), ids);
    // He acknowledges three: alice's two devices get a receipt for each.
    cb.ack(3).await.unwrap();
    for conn in [&mut ca1, &mut ca2] {
        let mut receipted = Vec::new();
        for _ in 0..3 {
            match next(conn).await {
                ServerFrame::Receipt { payload, .. } => {
                    assert_eq!(payload.user_id.to_string(), b.user_id);
                    assert_eq!(payload.device_id.to_string(), b.device_id);
                    receipted.push(payload.message_id);
                }
                other => panic!("expected a receipt, got {other:?}"),
            }
        }
        assert_eq!(receipted, ids[..3]);
    }
    drop(cb);
    // Reconnecting without a position resumes after what was acknowledged.
    let (_cb, replayed) = ws_resumed(&s, &b, None).await;
    let seqs: Vec<u64> = replayed.iter().filter_map(ServerFrame::seq).collect();
    assert_eq!(seqs, vec![4, 5]);
    // Resuming past the end is clamped; nothing is invented.
    let (_cb2, replayed) = ws_resumed(&s, &b, Some(99)).await;
    assert!(replayed.is_empty());
}

#[tokio::test]
async fn live_events_follow_the_replay_without_gap_or_duplicate() {
    let s = server().await;
    let a = register(&s, "hal").await;
    let b = register(&s, "ivy").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    // Messages keep coming while Bob connects and resumes.
    let to = b.user_id.clone();
    let sender = tokio::spawn(async move {
        for _ in 0..60 {
            ca.send_message(message_to(&to)).await.unwrap();
            assert!(matches!(next(&mut ca).await, ServerFrame::Sent { .. }));
        }
        ca
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (mut cb, replayed) = ws_resumed(&s, &b, Some(0)).await;
    let mut seqs: Vec<u64> = replayed.iter().filter_map(ServerFrame::seq).collect();
    let _ca = sender.await.unwrap();
    while seqs.len() < 60 {
        seqs.push(next(&mut cb).await.seq().expect("a stream event"));
    }
    assert_eq!(seqs, (1..=60).collect::<Vec<u64>>());
    quiet(&mut cb, 300).await;
}
