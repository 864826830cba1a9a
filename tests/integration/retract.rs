//! Retraction: `DELETE /v1/conversations/{id}/messages/{messageId}` by the
//! sender within the window; a `deleted` event on every member's devices,
//! the message gone from history and from later replays; refused for other
//! members, outsiders and after the window.

use passerelle_client::ws::{DeletionReason, ServerFrame};
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::common::*;

async fn retract(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    conversation: Uuid,
    message: Uuid,
) -> reqwest::Response {
    call(
        s,
        d,
        Method::DELETE,
        &format!("/v1/conversations/{conversation}/messages/{message}"),
        None,
    )
    .await
}

/// Sends a direct message from `conn` to `to` and returns its id.
async fn send_to(conn: &mut passerelle_client::Connection, to: &Device) -> Uuid {
    let m = message_to(&to.user_id);
    conn.send_message(m.clone()).await.unwrap();
    assert!(matches!(next(conn).await, ServerFrame::Sent { .. }));
    m.message_id
}

fn deleted(frame: ServerFrame) -> (Uuid, Uuid) {
    match frame {
        ServerFrame::Deleted { payload, .. } => {
            assert_eq!(payload.reason, DeletionReason::Retracted);
            (payload.conversation_id, payload.message_id)
        }
        other => panic!("expected deleted, got {other:?}"),
    }
}

#[tokio::test]
async fn the_sender_retracts_and_every_device_drops_it() {
    let s = server().await;
    let a1 = register(&s, "yan").await;
    let a2 = login_ok(&s, "yan").await;
    let b1 = register(&s, "zed").await;
    let b2 = login_ok(&s, "zed").await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;

    let kept = send_to(&mut ca1, &b1).await;
    let gone = send_to(&mut ca1, &b1).await;
    let conversation = match next(&mut cb1).await {
        ServerFrame::Message { payload, .. } => payload.conversation_id.unwrap(),
        other => panic!("{other:?}"),
    };
    next(&mut cb1).await;
    next(&mut ca2).await;
    next(&mut ca2).await;

    // The recipient cannot retract the sender's message.
    let resp = retract(&s, &b1, conversation, gone).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;

    let resp = retract(&s, &a1, conversation, gone).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for conn in [&mut ca1, &mut ca2, &mut cb1] {
        assert_eq!(deleted(next(conn).await), (conversation, gone));
    }

    // A device that was offline: the message never shows, the deletion does.
    let (_cb2, replayed) = ws_resumed(&s, &b2, Some(0)).await;
    let messages: Vec<Uuid> = replayed
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { payload, .. } => Some(payload.message_id),
            _ => None,
        })
        .collect();
    assert_eq!(messages, vec![kept]);
    assert!(
        replayed.iter().any(
            |f| matches!(f, ServerFrame::Deleted { payload, .. } if payload.message_id == gone)
        )
    );
    // The retracted events left no hole: a device resuming from just
    // before them is not told that retention lost anything.
    let kept_seq = replayed
        .iter()
        .find_map(|f| match f {
            ServerFrame::Message { seq, payload } if payload.message_id == kept => Some(*seq),
            _ => None,
        })
        .expect("kept message replayed");
    let (_c, again) = ws_resumed(&s, &b2, Some(kept_seq)).await;
    assert!(
        !again
            .iter()
            .any(|f| matches!(f, ServerFrame::Truncated { .. })),
        "{again:?}"
    );
    assert!(
        again.iter().any(
            |f| matches!(f, ServerFrame::Deleted { payload, .. } if payload.message_id == gone)
        )
    );

    // Gone from history; a second retraction finds nothing.
    let path = format!("/v1/conversations/{conversation}/messages");
    let body = json(
        authed(&s, Method::GET, &path, &b1.access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![kept.to_string()]);
    let again = retract(&s, &a1, conversation, gone).await;
    expect_error(again, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn outsiders_and_late_retractions_are_refused() {
    let s = builder()
        .env("PASSERELLE__CONVERSATIONS__RETRACT_WINDOW_SECS", "1")
        .spawn()
        .await;
    let a = register(&s, "abe").await;
    let b = register(&s, "bea").await;
    let mallory = register(&s, "mallory").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let m = send_to(&mut ca, &b).await;
    let conversation = match next(&mut cb).await {
        ServerFrame::Message { payload, .. } => payload.conversation_id.unwrap(),
        other => panic!("{other:?}"),
    };

    // Not a member: the same 404 as for a conversation that does not exist.
    let theirs = not_found_body(retract(&s, &mallory, conversation, m).await).await;
    let nothing = not_found_body(retract(&s, &mallory, Uuid::new_v4(), m).await).await;
    assert_eq!(theirs, nothing);

    // Past the window (1 s here).
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let late = retract(&s, &a, conversation, m).await;
    expect_error(late, StatusCode::CONFLICT, "retract_window_passed").await;
    quiet(&mut cb, 200).await;

    // A revoked device's token is refused before anything is read.
    let a2 = login_ok(&s, "abe").await;
    let resp = authed(
        &s,
        Method::DELETE,
        &format!("/v1/devices/{}", a2.device_id),
        &a.access,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = retract(&s, &a2, conversation, m).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_blocker_is_not_told_of_retractions_by_the_blocked() {
    let s = server().await;
    let owner = register(&s, "pia").await;
    let blocked = register(&s, "quin").await;
    let group = group_with(&s, &owner, "retractions", &[&blocked]).await;
    assert_eq!(
        set_block(&s, &owner, &blocked.user_id, true).await.status(),
        204
    );
    let (mut co, _) = ws_resumed(&s, &owner, None).await;
    let (mut cb, _) = ws_resumed(&s, &blocked, None).await;
    let m = message_in(&group);
    cb.send_message(m.clone()).await.unwrap();
    assert!(matches!(next(&mut cb).await, ServerFrame::Sent { .. }));
    let resp = retract(&s, &blocked, group.parse().unwrap(), m.message_id).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(deleted(next(&mut cb).await).1, m.message_id);
    // The blocker never had the message, and hears nothing of its end.
    quiet(&mut co, 500).await;
}
