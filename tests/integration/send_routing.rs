//! Where a `message` frame goes: the pair's direct conversation (created on
//! the first message, one per pair), blocked senders (an ordinary `sent`,
//! nothing delivered), `replyTo` checks, conversations the sender is not a
//! member of, and the `recipientId` / `conversationId` rule.

use passerelle_client::ws::{FrameErrorCode, ServerFrame};
use uuid::Uuid;

use crate::common::*;

/// Sends `m` from `conn` and returns the reply frame.
async fn send(
    conn: &mut passerelle_client::Connection,
    m: passerelle_client::ws::SendMessage,
) -> ServerFrame {
    conn.send_message(m).await.expect("send");
    next(conn).await
}

fn conversation_of(frame: &ServerFrame) -> Uuid {
    match frame {
        ServerFrame::Message { payload, .. } => payload.conversation_id.expect("conversationId"),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn error_code(frame: &ServerFrame) -> FrameErrorCode {
    match frame {
        ServerFrame::Error { payload, .. } => payload.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pair_has_one_direct_conversation_in_both_directions() {
    let s = server().await;
    let a1 = register(&s, "ana").await;
    let a2 = login_ok(&s, "ana").await;
    let b = register(&s, "ben").await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    assert!(matches!(
        send(&mut ca1, message_to(&b.user_id)).await,
        ServerFrame::Sent { .. }
    ));
    let at_b = conversation_of(&next(&mut cb).await);
    let at_a2 = conversation_of(&next(&mut ca2).await);
    assert_eq!(
        at_b, at_a2,
        "the sender's sync copy names the same conversation"
    );

    // The reply, by recipientId, lands in the same conversation.
    assert!(matches!(
        send(&mut cb, message_to(&a1.user_id)).await,
        ServerFrame::Sent { .. }
    ));
    assert_eq!(conversation_of(&next(&mut ca1).await), at_b);
    assert_eq!(conversation_of(&next(&mut ca2).await), at_b);

    // And by conversationId too.
    let mut m = message_to(&a1.user_id);
    m.recipient_id = None;
    m.conversation_id = Some(at_b);
    assert!(matches!(send(&mut cb, m).await, ServerFrame::Sent { .. }));
    assert_eq!(conversation_of(&next(&mut ca1).await), at_b);
}

#[tokio::test]
async fn concurrent_first_messages_share_one_conversation() {
    let s = server().await;
    let a = register(&s, "cyd").await;
    let b = register(&s, "dov").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    // Both send before either reads anything.
    ca.send_message(message_to(&b.user_id)).await.unwrap();
    cb.send_message(message_to(&a.user_id)).await.unwrap();
    let mut seen = Vec::new();
    for conn in [&mut ca, &mut cb] {
        for _ in 0..2 {
            if let f @ ServerFrame::Message { .. } = next(conn).await {
                seen.push(conversation_of(&f));
            }
        }
    }
    assert_eq!(seen.len(), 2, "each got the other's message");
    assert_eq!(seen[0], seen[1]);
}

#[tokio::test]
async fn a_blocked_sender_gets_an_ordinary_ack_and_nothing_is_delivered() {
    let s = server().await;
    let victim = register(&s, "eve").await;
    let pest1 = register(&s, "fox").await;
    let pest2 = login_ok(&s, "fox").await;
    let (mut cv, _) = ws_resumed(&s, &victim, None).await;
    let (mut cp1, _) = ws_resumed(&s, &pest1, None).await;
    let (mut cp2, _) = ws_resumed(&s, &pest2, None).await;
    assert_eq!(
        set_block(&s, &victim, &pest1.user_id, true).await.status(),
        204
    );

    let m = message_to(&victim.user_id);
    let sent = match send(&mut cp1, m.clone()).await {
        ServerFrame::Sent { payload, .. } => payload,
        other => panic!("{other:?}"),
    };
    assert!(!sent.duplicate);
    // The sender's other device has its copy, as for any message.
    match next(&mut cp2).await {
        ServerFrame::Message { payload, .. } => assert_eq!(payload.message_id, m.message_id),
        other => panic!("{other:?}"),
    }
    quiet(&mut cv, 400).await;
    // Nor on replay.
    let (mut cv2, replayed) = ws_resumed(&s, &victim, Some(0)).await;
    assert!(
        replayed.is_empty(),
        "nothing in the blocker's stream: {replayed:?}"
    );
    quiet(&mut cv2, 100).await;

    // Replying to the withheld message is refused for the blocker (they
    // cannot see it), allowed for its sender.
    let mut reply = message_to(&pest1.user_id);
    reply.reply_to = Some(m.message_id);
    assert_eq!(
        error_code(&send(&mut cv, reply).await),
        FrameErrorCode::NotFound
    );
    let mut own = message_to(&victim.user_id);
    own.reply_to = Some(m.message_id);
    assert!(matches!(
        send(&mut cp1, own).await,
        ServerFrame::Sent { .. }
    ));

    // After unblocking, new messages arrive again.
    assert_eq!(
        set_block(&s, &victim, &pest1.user_id, false).await.status(),
        204
    );
    let later = message_to(&victim.user_id);
    assert!(matches!(
        send(&mut cp1, later.clone()).await,
        ServerFrame::Sent { .. }
    ));
    match next(&mut cv).await {
        ServerFrame::Message { payload, .. } => assert_eq!(payload.message_id, later.message_id),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reply_to_must_name_a_message_of_the_same_conversation() {
    let s = server().await;
    let a = register(&s, "gus").await;
    let b = register(&s, "hal").await;
    let c = register(&s, "ivy").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    let first = message_to(&b.user_id);
    assert!(matches!(
        send(&mut ca, first.clone()).await,
        ServerFrame::Sent { .. }
    ));
    next(&mut cb).await;

    let mut ok = message_to(&a.user_id);
    ok.reply_to = Some(first.message_id);
    assert!(matches!(
        send(&mut cb, ok.clone()).await,
        ServerFrame::Sent { .. }
    ));
    match next(&mut ca).await {
        ServerFrame::Message { payload, .. } => {
            assert_eq!(payload.reply_to, Some(first.message_id))
        }
        other => panic!("{other:?}"),
    }

    // Unknown id, and a message of another conversation (a ↔ c).
    let mut unknown = message_to(&a.user_id);
    unknown.reply_to = Some(Uuid::new_v4());
    assert_eq!(
        error_code(&send(&mut cb, unknown).await),
        FrameErrorCode::NotFound
    );
    let other = message_to(&c.user_id);
    assert!(matches!(
        send(&mut ca, other.clone()).await,
        ServerFrame::Sent { .. }
    ));
    let mut elsewhere = message_to(&a.user_id);
    elsewhere.reply_to = Some(other.message_id);
    assert_eq!(
        error_code(&send(&mut cb, elsewhere).await),
        FrameErrorCode::NotFound
    );
    quiet(&mut ca, 200).await;
}

#[tokio::test]
async fn conversations_the_sender_is_not_in_do_not_exist_for_them() {
    let s = server().await;
    let a = register(&s, "jay").await;
    let b = register(&s, "kit").await;
    let mallory = register(&s, "mallory").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let (mut cm, _) = ws_resumed(&s, &mallory, None).await;
    assert!(matches!(
        send(&mut ca, message_to(&b.user_id)).await,
        ServerFrame::Sent { .. }
    ));
    let conversation = conversation_of(&next(&mut cb).await);

    // Someone else's real conversation and a made-up id: the same answer.
    for id in [conversation, Uuid::new_v4()] {
        let mut m = message_to(&b.user_id);
        m.recipient_id = None;
        m.conversation_id = Some(id);
        match send(&mut cm, m).await {
            ServerFrame::Error { payload, .. } => {
                assert_eq!(payload.code, FrameErrorCode::NotFound);
                assert_eq!(payload.message, "no such conversation");
            }
            other => panic!("{other:?}"),
        }
    }
    quiet(&mut cb, 300).await;
    quiet(&mut ca, 100).await;
}

#[tokio::test]
async fn exactly_one_of_recipient_and_conversation() {
    let s = server().await;
    let a = register(&s, "lee").await;
    let b = register(&s, "max").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let mut both = message_to(&b.user_id);
    both.conversation_id = Some(Uuid::new_v4());
    assert_eq!(
        error_code(&send(&mut ca, both).await),
        FrameErrorCode::ValidationFailed
    );
    let mut neither = message_to(&b.user_id);
    neither.recipient_id = None;
    assert_eq!(
        error_code(&send(&mut ca, neither).await),
        FrameErrorCode::ValidationFailed
    );
    // The session stays usable.
    assert!(matches!(
        send(&mut ca, message_to(&b.user_id)).await,
        ServerFrame::Sent { .. }
    ));
}

#[tokio::test]
async fn a_direct_conversation_addressed_by_id_is_a_direct_message() {
    let s = server().await;
    let a = register(&s, "gil").await;
    let b = register(&s, "hal").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    // The first message creates the conversation; the second addresses it
    // by id.
    assert!(matches!(
        send(&mut ca, message_to(&b.user_id)).await,
        ServerFrame::Sent { .. }
    ));
    let conversation = conversation_of(&next(&mut cb).await);
    let m = message_in(&conversation.to_string());
    assert!(matches!(
        send(&mut ca, m.clone()).await,
        ServerFrame::Sent { .. }
    ));
    let seq = match next(&mut cb).await {
        ServerFrame::Message { seq, payload } => {
            assert_eq!(payload.message_id, m.message_id);
            // Set however it was addressed.
            assert_eq!(
                payload.recipient_id.map(|u| u.to_string()),
                Some(b.user_id.clone())
            );
            seq
        }
        other => panic!("{other:?}"),
    };
    // Its delivery is receipted like any direct message.
    cb.ack(seq).await.expect("ack");
    let mut receipted = Vec::new();
    for _ in 0..2 {
        match next(&mut ca).await {
            ServerFrame::Receipt { payload, .. } => receipted.push(payload.message_id),
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
    assert!(receipted.contains(&m.message_id), "{receipted:?}");

    // A block withholds it exactly as when addressed by `recipientId`: an
    // ordinary `sent`, nothing delivered, in the sender's history only.
    assert_eq!(set_block(&s, &b, &a.user_id, true).await.status(), 204);
    let hidden = message_in(&conversation.to_string());
    assert!(matches!(
        send(&mut ca, hidden.clone()).await,
        ServerFrame::Sent { .. }
    ));
    quiet(&mut cb, 400).await;
    assert!(
        !history_ids(&s, &b, conversation)
            .await
            .contains(&hidden.message_id)
    );
    assert!(
        history_ids(&s, &a, conversation)
            .await
            .contains(&hidden.message_id)
    );
}

#[tokio::test]
async fn group_messages_are_not_receipted_per_device() {
    let s = server().await;
    let a = register(&s, "ike").await;
    let b = register(&s, "jay").await;
    let group = group_with(&s, &a, "no-receipts", &[&b]).await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let m = message_in(&group);
    assert!(matches!(
        send(&mut ca, m.clone()).await,
        ServerFrame::Sent { .. }
    ));
    let seq = match next(&mut cb).await {
        ServerFrame::Message { seq, payload } => {
            assert_eq!(payload.message_id, m.message_id);
            assert_eq!(payload.recipient_id, None);
            seq
        }
        other => panic!("{other:?}"),
    };
    // The member acknowledges: the stream moves on, the sender hears nothing.
    cb.ack(seq).await.expect("ack");
    quiet(&mut ca, 500).await;
    let (_c, replayed) = ws_resumed(&s, &a, Some(0)).await;
    assert!(
        !replayed
            .iter()
            .any(|f| matches!(f, ServerFrame::Receipt { .. })),
        "{replayed:?}"
    );
}
