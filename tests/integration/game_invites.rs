//! Game invitations (seed 002): a `game_invite` message carries a `gameId`
//! and makes a pending invitation in a direct conversation; the invitee
//! accepts or declines, the inviter may cancel, the sweeper expires it, and
//! each change is a durable `game` event on both users' devices. Refused
//! frames, blocked senders, outsiders, retraction and replay.

use passerelle_client::ws::{FrameErrorCode, GameEvent, GameInviteState, MessageType, ServerFrame};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::common::*;

type Conn = passerelle_client::Connection;
type Server = passerelle_test_support::TestServer;

const GAME: &str = "chess.blitz-5";

/// A `game_invite` frame for `to`.
fn invite_to(to: &Device) -> passerelle_client::ws::SendMessage {
    passerelle_client::ws::SendMessage {
        device_entries: None,
        message_type: MessageType::GameInvite,
        game_id: Some(GAME.into()),
        ..message_to(&to.user_id)
    }
}

/// Sends `m` and returns the answer frame.
async fn send(conn: &mut Conn, m: passerelle_client::ws::SendMessage) -> ServerFrame {
    conn.send_message(m).await.expect("send");
    next(conn).await
}

async fn sent_ok(conn: &mut Conn, m: passerelle_client::ws::SendMessage) {
    match send(conn, m).await {
        ServerFrame::Sent { payload, .. } => assert!(payload.seq > 0 && !payload.duplicate),
        other => panic!("expected sent, got {other:?}"),
    }
}

/// The code and message of an `error` frame.
fn refusal(frame: ServerFrame) -> (FrameErrorCode, String) {
    match frame {
        ServerFrame::Error { payload, .. } => (payload.code, payload.message),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The next frame is the message `id`; returns its `gameId`.
async fn message_game(conn: &mut Conn, id: Uuid) -> Option<String> {
    match next(conn).await {
        ServerFrame::Message { payload, .. } => {
            assert_eq!(payload.message_id, id);
            payload.game_id
        }
        other => panic!("expected message {id}, got {other:?}"),
    }
}

/// The next frame is a `game` event about `id`.
async fn game_event(conn: &mut Conn, id: Uuid) -> GameEvent {
    match next(conn).await {
        ServerFrame::Game { payload, .. } => {
            assert_eq!(payload.message_id, id);
            assert_eq!(payload.game_id, GAME);
            payload
        }
        other => panic!("expected a game event, got {other:?}"),
    }
}

async fn invitation(s: &Server, d: &Device, id: Uuid, verb: Option<&str>) -> reqwest::Response {
    let (method, path) = match verb {
        Some(v) => (Method::POST, format!("/v1/game-invites/{id}/{v}")),
        None => (Method::GET, format!("/v1/game-invites/{id}")),
    };
    call(s, d, method, &path, None).await
}

async fn invitation_ok(s: &Server, d: &Device, id: Uuid, verb: Option<&str>) -> Value {
    let resp = invitation(s, d, id, verb).await;
    assert_eq!(resp.status(), StatusCode::OK, "{verb:?}");
    json(resp).await
}

#[tokio::test]
async fn an_accepted_invitation_reaches_both_sides_live_and_on_replay() {
    let s = server().await;
    let a1 = register(&s, "alma").await;
    let a2 = login_ok(&s, "alma").await;
    let b1 = register(&s, "bruno").await;
    let b2 = login_ok(&s, "bruno").await;
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &b1, None).await;

    let m = invite_to(&b1);
    let id = m.message_id;
    sent_ok(&mut ca1, m).await;
    assert_eq!(message_game(&mut cb1, id).await.as_deref(), Some(GAME));
    assert_eq!(message_game(&mut ca2, id).await.as_deref(), Some(GAME));

    // Both sides read it; it is pending.
    let seen_by_a = invitation_ok(&s, &a1, id, None).await;
    let seen_by_b = invitation_ok(&s, &b1, id, None).await;
    assert_eq!(seen_by_a, seen_by_b);
    assert_eq!(seen_by_b["state"], "pending");
    assert_eq!(seen_by_b["gameId"], GAME);
    assert_eq!(seen_by_b["inviterId"], a1.user_id);
    assert_eq!(seen_by_b["inviteeId"], b1.user_id);
    assert!(seen_by_b["decidedAt"].is_null());
    let conversation = seen_by_b["conversationId"].as_str().expect("id").to_owned();
    // History carries the game id too.
    let history = json(
        call(
            &s,
            &b1,
            Method::GET,
            &format!("/v1/conversations/{conversation}/messages"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(history["messages"][0]["gameId"], GAME, "{history}");
    assert_eq!(history["messages"][0]["messageType"], "game_invite");

    let accepted = invitation_ok(&s, &b1, id, Some("accept")).await;
    assert_eq!(accepted["state"], "accepted");
    assert!(accepted["decidedAt"].is_string());
    for conn in [&mut ca1, &mut ca2, &mut cb1] {
        let e = game_event(conn, id).await;
        assert_eq!(e.state, GameInviteState::Accepted);
        assert_eq!(e.actor_id.map(|u| u.to_string()), Some(b1.user_id.clone()));
        assert_eq!(e.conversation_id.to_string(), conversation);
    }
    assert_eq!(invitation_ok(&s, &a1, id, None).await["state"], "accepted");

    // No longer pending: every further change is 409, and nothing is sent.
    for (who, verb) in [(&b1, "accept"), (&b1, "decline"), (&a1, "cancel")] {
        let resp = invitation(&s, who, id, Some(verb)).await;
        expect_error(resp, StatusCode::CONFLICT, "invite_not_pending").await;
    }
    quiet(&mut cb1, 200).await;

    // A device that was offline replays the invitation and its change.
    let (_cb2, replayed) = ws_resumed(&s, &b2, Some(0)).await;
    match &replayed[..] {
        [
            ServerFrame::Message { payload: m, .. },
            ServerFrame::Game { payload: g, .. },
        ] => {
            assert_eq!(m.game_id.as_deref(), Some(GAME));
            assert_eq!((m.message_id, g.message_id), (id, id));
            assert_eq!(g.state, GameInviteState::Accepted);
        }
        other => panic!("replay: {other:?}"),
    }
}

#[tokio::test]
async fn invitees_decline_inviters_cancel_and_nobody_does_the_others_part() {
    let s = server().await;
    let a = register(&s, "carla").await;
    let b = register(&s, "dario").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    let first = invite_to(&b);
    sent_ok(&mut ca, first.clone()).await;
    message_game(&mut cb, first.message_id).await;
    // The wrong party: 403 (they know it exists), and nothing changes.
    let resp = invitation(&s, &a, first.message_id, Some("accept")).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = invitation(&s, &a, first.message_id, Some("decline")).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    let resp = invitation(&s, &b, first.message_id, Some("cancel")).await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        invitation_ok(&s, &a, first.message_id, None).await["state"],
        "pending"
    );

    let declined = invitation_ok(&s, &b, first.message_id, Some("decline")).await;
    assert_eq!(declined["state"], "declined");
    for conn in [&mut ca, &mut cb] {
        let e = game_event(conn, first.message_id).await;
        assert_eq!(e.state, GameInviteState::Declined);
        assert_eq!(e.actor_id.map(|u| u.to_string()), Some(b.user_id.clone()));
    }

    // By conversation id (the direct conversation) works the same.
    let conversation = declined["conversationId"].as_str().expect("id").to_owned();
    let second = passerelle_client::ws::SendMessage {
        device_entries: None,
        recipient_id: None,
        conversation_id: Some(conversation.parse().expect("uuid")),
        ..invite_to(&b)
    };
    sent_ok(&mut ca, second.clone()).await;
    message_game(&mut cb, second.message_id).await;
    assert_eq!(
        invitation_ok(&s, &b, second.message_id, None).await["inviteeId"],
        b.user_id
    );
    let cancelled = invitation_ok(&s, &a, second.message_id, Some("cancel")).await;
    assert_eq!(cancelled["state"], "cancelled");
    for conn in [&mut ca, &mut cb] {
        let e = game_event(conn, second.message_id).await;
        assert_eq!(e.state, GameInviteState::Cancelled);
        assert_eq!(e.actor_id.map(|u| u.to_string()), Some(a.user_id.clone()));
    }
    let resp = invitation(&s, &b, second.message_id, Some("accept")).await;
    expect_error(resp, StatusCode::CONFLICT, "invite_not_pending").await;
}

#[tokio::test]
async fn pending_invitations_expire_and_both_sides_are_told() {
    let s = builder()
        .env("PASSERELLE__CONVERSATIONS__GAME_INVITE_TTL_SECS", "1")
        .env("PASSERELLE__ROUTING__SWEEP_INTERVAL_SECS", "1")
        .spawn()
        .await;
    let a = register(&s, "elena").await;
    let b = register(&s, "fabio").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    let m = invite_to(&b);
    sent_ok(&mut ca, m.clone()).await;
    message_game(&mut cb, m.message_id).await;
    for conn in [&mut ca, &mut cb] {
        let e = game_event(conn, m.message_id).await;
        assert_eq!(e.state, GameInviteState::Expired);
        assert!(e.actor_id.is_none());
    }
    let seen = invitation_ok(&s, &b, m.message_id, None).await;
    assert_eq!(seen["state"], "expired");
    assert!(seen["decidedAt"].is_string());
    let resp = invitation(&s, &b, m.message_id, Some("accept")).await;
    expect_error(resp, StatusCode::CONFLICT, "invite_not_pending").await;
    // Announced once, whatever the sweeps and answers since.
    quiet(&mut ca, 1500).await;
    quiet(&mut cb, 100).await;
}

#[tokio::test]
async fn an_invitation_past_its_expiry_cannot_be_answered_before_the_sweep() {
    let s = builder()
        .env("PASSERELLE__CONVERSATIONS__GAME_INVITE_TTL_SECS", "1")
        .env("PASSERELLE__ROUTING__SWEEP_INTERVAL_SECS", "3600")
        .spawn()
        .await;
    let a = register(&s, "gemma").await;
    let b = register(&s, "hugo").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let m = invite_to(&b);
    sent_ok(&mut ca, m.clone()).await;
    message_game(&mut cb, m.message_id).await;
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;

    // Reads as expired at once; answering it marks it and tells both.
    assert_eq!(
        invitation_ok(&s, &a, m.message_id, None).await["state"],
        "expired"
    );
    let resp = invitation(&s, &b, m.message_id, Some("accept")).await;
    expect_error(resp, StatusCode::CONFLICT, "invite_not_pending").await;
    for conn in [&mut ca, &mut cb] {
        assert_eq!(
            game_event(conn, m.message_id).await.state,
            GameInviteState::Expired
        );
    }
    let resp = invitation(&s, &a, m.message_id, Some("cancel")).await;
    expect_error(resp, StatusCode::CONFLICT, "invite_not_pending").await;
    quiet(&mut cb, 300).await;
}

#[tokio::test]
async fn a_blocked_senders_invitation_exists_for_the_sender_only() {
    let s = server().await;
    let a1 = register(&s, "ivan").await;
    let a2 = login_ok(&s, "ivan").await;
    let b = register(&s, "jana").await;
    assert_eq!(set_block(&s, &b, &a1.user_id, true).await.status(), 204);
    let (mut ca1, _) = ws_resumed(&s, &a1, None).await;
    let (mut ca2, _) = ws_resumed(&s, &a2, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;

    let m = invite_to(&b);
    sent_ok(&mut ca1, m.clone()).await;
    assert_eq!(
        message_game(&mut ca2, m.message_id).await.as_deref(),
        Some(GAME)
    );
    quiet(&mut cb, 300).await;
    // The sender sees an ordinary pending invitation.
    assert_eq!(
        invitation_ok(&s, &a1, m.message_id, None).await["state"],
        "pending"
    );
    // For the blocker it does not exist: the same 404 as an unknown id.
    let unknown = not_found_body(invitation(&s, &b, Uuid::new_v4(), None).await).await;
    for verb in [None, Some("accept"), Some("decline"), Some("cancel")] {
        let body = not_found_body(invitation(&s, &b, m.message_id, verb).await).await;
        assert_eq!(body, unknown, "{verb:?}");
    }
    // Cancelling tells the sender's devices only.
    invitation_ok(&s, &a1, m.message_id, Some("cancel")).await;
    for conn in [&mut ca1, &mut ca2] {
        assert_eq!(
            game_event(conn, m.message_id).await.state,
            GameInviteState::Cancelled
        );
    }
    quiet(&mut cb, 300).await;
    let (_cb2, replayed) = ws_resumed(&s, &b, Some(0)).await;
    assert!(replayed.is_empty(), "{replayed:?}");
}

#[tokio::test]
async fn outsiders_and_revoked_devices_get_nothing() {
    let s = server().await;
    let a = register(&s, "kira").await;
    let b = register(&s, "luca").await;
    let b_gone = login_ok(&s, "luca").await;
    let c = register(&s, "mona").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let m = invite_to(&b);
    sent_ok(&mut ca, m.clone()).await;
    message_game(&mut cb, m.message_id).await;

    let unknown = not_found_body(invitation(&s, &c, Uuid::new_v4(), None).await).await;
    for verb in [None, Some("accept"), Some("decline"), Some("cancel")] {
        let body = not_found_body(invitation(&s, &c, m.message_id, verb).await).await;
        assert_eq!(body, unknown, "{verb:?}");
    }
    let resp = call(&s, &c, Method::GET, "/v1/game-invites/not-a-uuid", None).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;

    let resp = call(
        &s,
        &b,
        Method::DELETE,
        &format!("/v1/devices/{}", b_gone.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for verb in [None, Some("accept"), Some("decline")] {
        let resp = invitation(&s, &b_gone, m.message_id, verb).await;
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    // Alice hears of the revoked device (they share a conversation), and
    // of nothing else.
    assert!(matches!(
        next(&mut ca).await,
        ServerFrame::Devices { payload, .. } if payload.device_id.to_string() == b_gone.device_id
    ));
    quiet(&mut ca, 200).await;
    assert_eq!(
        invitation_ok(&s, &b, m.message_id, None).await["state"],
        "pending"
    );
}

#[tokio::test]
async fn malformed_and_misdirected_invitations_are_refused_and_store_nothing() {
    let s = server().await;
    let a = register(&s, "nadia").await;
    let b = register(&s, "oscar").await;
    let c = register(&s, "paola").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let group = group_with(&s, &a, "gamers", &[&b]).await;
    let others = group_with(&s, &c, "strangers", &[]).await;
    let _ = next_change(&mut ca).await;
    let _ = next_change(&mut cb).await;

    let mut refused = Vec::new();
    let expect = |frame: ServerFrame, code: FrameErrorCode, words: &str| {
        let (got, message) = refusal(frame);
        assert_eq!(got, code, "{message}");
        assert!(
            message.contains(words),
            "{message:?} should mention {words:?}"
        );
    };
    // No game id, a bad one, one on a text message.
    let mut m = invite_to(&b);
    m.game_id = None;
    refused.push(m.message_id);
    expect(
        send(&mut ca, m).await,
        FrameErrorCode::ValidationFailed,
        "gameId",
    );
    for bad in ["", "chess game", "échecs", &"x".repeat(65)] {
        let mut m = invite_to(&b);
        m.game_id = Some(bad.to_owned());
        refused.push(m.message_id);
        expect(
            send(&mut ca, m).await,
            FrameErrorCode::ValidationFailed,
            "gameId",
        );
    }
    let mut m = message_to(&b.user_id);
    m.game_id = Some(GAME.into());
    refused.push(m.message_id);
    expect(
        send(&mut ca, m).await,
        FrameErrorCode::ValidationFailed,
        "gameId",
    );
    // In a group, to oneself: not a direct conversation with another user.
    let m = passerelle_client::ws::SendMessage {
        device_entries: None,
        recipient_id: None,
        conversation_id: Some(group.parse().expect("uuid")),
        ..invite_to(&b)
    };
    refused.push(m.message_id);
    expect(
        send(&mut ca, m).await,
        FrameErrorCode::ValidationFailed,
        "direct",
    );
    let m = invite_to(&a);
    refused.push(m.message_id);
    expect(
        send(&mut ca, m).await,
        FrameErrorCode::ValidationFailed,
        "direct",
    );
    // A group the sender is not in: not found, as for any message.
    let m = passerelle_client::ws::SendMessage {
        device_entries: None,
        recipient_id: None,
        conversation_id: Some(others.parse().expect("uuid")),
        ..invite_to(&b)
    };
    refused.push(m.message_id);
    expect(
        send(&mut ca, m).await,
        FrameErrorCode::NotFound,
        "conversation",
    );
    // An unknown recipient.
    let m = passerelle_client::ws::SendMessage {
        device_entries: None,
        recipient_id: Some(Uuid::new_v4()),
        ..invite_to(&b)
    };
    refused.push(m.message_id);
    expect(
        send(&mut ca, m).await,
        FrameErrorCode::NotFound,
        "recipient",
    );

    // Nothing was delivered or stored.
    quiet(&mut cb, 300).await;
    for id in refused {
        let resp = invitation(&s, &a, id, None).await;
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    let history = json(
        call(
            &s,
            &a,
            Method::GET,
            &format!("/v1/conversations/{group}/messages"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(history["messages"], serde_json::json!([]), "{history}");
}

#[tokio::test]
async fn retracting_the_message_withdraws_the_invitation() {
    let s = server().await;
    let a = register(&s, "quinn").await;
    let b = register(&s, "rosa").await;
    let (mut ca, _) = ws_resumed(&s, &a, None).await;
    let (mut cb, _) = ws_resumed(&s, &b, None).await;
    let m = invite_to(&b);
    sent_ok(&mut ca, m.clone()).await;
    message_game(&mut cb, m.message_id).await;
    let conversation = invitation_ok(&s, &b, m.message_id, None).await["conversationId"]
        .as_str()
        .expect("id")
        .to_owned();

    let resp = call(
        &s,
        &a,
        Method::DELETE,
        &format!("/v1/conversations/{conversation}/messages/{}", m.message_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for conn in [&mut ca, &mut cb] {
        match next(conn).await {
            ServerFrame::Deleted { payload, .. } => assert_eq!(payload.message_id, m.message_id),
            other => panic!("expected deleted, got {other:?}"),
        }
    }
    for (who, verb) in [
        (&b, None),
        (&b, Some("accept")),
        (&a, None),
        (&a, Some("cancel")),
    ] {
        let resp = invitation(&s, who, m.message_id, verb).await;
        expect_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    quiet(&mut cb, 200).await;
}
