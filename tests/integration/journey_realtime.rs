//! Issue 5 as a new user would try it, in one story: two users with two
//! devices each see each other come online, type (the indicator carries
//! its lifetime and nothing is stored), send, receive, acknowledge and read
//! a message with the receipts, the sender's aggregated state and the
//! unread counts agreeing on every device; then privacy settings and a
//! block hide all of it, and lifting the block shows it again. Each step is
//! covered in depth by its own module (`presence`, `typing`,
//! `read_markers`, `message_receipts`, `unread_sync`); a node killed under
//! a user is `presence_nodes`.

use passerelle_client::Connection;
use passerelle_client::ws::{ServerFrame, TypingState};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;
use crate::presence::{all_quiet, befriend, expect_presence, fast_server};
use crate::typing::{direct, expect_typing, typing};

/// The next frame of each connection is a stream event of `kind` (for
/// `message`, the message `id`).
async fn expect_event(conns: &mut [&mut Connection], kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, conn) in conns.iter_mut().enumerate() {
        let text = conn.next_raw().await.expect("frame");
        let frame: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(frame["type"], kind, "connection {i}: {frame}");
        assert!(frame["seq"].as_u64().is_some(), "a stream event: {frame}");
        out.push(frame);
    }
    out
}

/// A fresh session's `unread` count for `conversation` (0 when it is not
/// listed).
async fn unread_on_connect(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    conversation: &str,
) -> u64 {
    let client = passerelle_client::Client::new(&s.url(""));
    let mut conn = client.connect(&d.access).await.expect("websocket");
    let (_, unread) = conn.greeting().await.expect("ready, then unread");
    unread
        .conversations
        .iter()
        .find(|c| c.conversation_id.to_string() == conversation)
        .map_or(0, |c| u64::from(c.unread_count))
}

/// The caller's `unreadCount` of `conversation` in `GET /v1/conversations`.
async fn unread_listed(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    conversation: &str,
) -> u64 {
    let list = json(call(s, d, Method::GET, "/v1/conversations", None).await).await;
    list["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .find(|c| c["id"] == conversation)
        .and_then(|c| c["unreadCount"].as_u64())
        .expect("listed")
}

async fn receipts(
    s: &passerelle_test_support::TestServer,
    d: &Device,
    conversation: &str,
    message: uuid::Uuid,
) -> Value {
    let resp = call(
        s,
        d,
        Method::GET,
        &format!("/v1/conversations/{conversation}/messages/{message}/receipts"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await
}

#[tokio::test]
async fn two_users_on_two_devices_see_presence_typing_receipts_and_unread_agree() {
    let s = fast_server(300).await;
    let alice = register(&s, "j5_alice").await;
    let alice2 = login_ok(&s, "j5_alice").await;
    let bob = register(&s, "j5_bob").await;
    let bob2 = login_ok(&s, "j5_bob").await;
    befriend(&s, &alice, &bob).await;
    let conversation = direct(&s, &alice, &bob).await;

    // Bob is on both devices; Alice comes online on her phone, then her
    // laptop: Bob's devices see her once.
    let (mut b1, _) = ws_resumed(&s, &bob, None).await;
    let (mut b2, _) = ws_resumed(&s, &bob2, None).await;
    let (mut a1, _) = ws_resumed(&s, &alice, None).await;
    expect_presence(&mut [&mut b1, &mut b2], &alice, "online").await;
    let (mut a2, _) = ws_resumed(&s, &alice2, None).await;
    all_quiet(&mut [&mut b1, &mut b2], 200).await;

    // Bob types on his phone: Alice's devices and his laptop see it, with
    // its lifetime; nothing else follows (it fades on the clients).
    typing(&mut b1, &conversation, TypingState::Started, None).await;
    let shown = expect_typing(
        &mut [&mut a1, &mut a2, &mut b2],
        &conversation,
        &bob,
        TypingState::Started,
    )
    .await;
    assert!(shown.iter().all(|t| t.expires_in_ms == Some(6000)));
    all_quiet(&mut [&mut a1, &mut a2, &mut b1, &mut b2], 300).await;

    // Alice sends from her phone: Bob's two devices and her laptop get it.
    let m = message_in(&conversation);
    a1.send_message(m.clone()).await.expect("send");
    assert!(matches!(next(&mut a1).await, ServerFrame::Sent { .. }));
    let got = expect_event(&mut [&mut b1, &mut b2, &mut a2], "message").await;
    let server_id = got[0]["payload"]["serverId"]
        .as_str()
        .expect("serverId")
        .to_owned();
    // Unread on every device of Bob's, on connect and in the list.
    assert_eq!(unread_on_connect(&s, &bob, &conversation).await, 1);
    assert_eq!(unread_on_connect(&s, &bob2, &conversation).await, 1);
    assert_eq!(unread_listed(&s, &bob, &conversation).await, 1);

    // Bob's phone acknowledges: both of Alice's devices get the receipt,
    // and her view of the message says delivered, not read.
    let seq = got[0]["seq"].as_u64().expect("seq");
    b1.ack(seq).await.expect("ack");
    expect_event(&mut [&mut a1, &mut a2], "receipt").await;
    let state = receipts(&s, &alice, &conversation, m.message_id).await;
    assert_eq!(state["deliveryState"], "all", "{state}");
    assert_eq!(state["readState"], "none", "{state}");

    // He reads it on his laptop (over REST): both of his devices and both
    // of Alice's hear it; the counts agree everywhere.
    let resp = call(
        &s,
        &bob2,
        Method::PUT,
        &format!("/v1/conversations/{conversation}/read"),
        Some(json!({"serverId": server_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    expect_event(&mut [&mut b1, &mut b2, &mut a1, &mut a2], "read").await;
    let state = receipts(&s, &alice, &conversation, m.message_id).await;
    assert_eq!(state["readState"], "all", "{state}");
    assert_eq!(unread_on_connect(&s, &bob, &conversation).await, 0);
    assert_eq!(unread_listed(&s, &bob, &conversation).await, 0);

    // Alice hides her presence: Bob's devices are told it is hidden; her
    // going away is not shown. Back to contacts: shown again.
    assert_eq!(
        patch_me(&s, &alice, json!({"presenceVisibility": "nobody"}))
            .await
            .status(),
        StatusCode::OK
    );
    expect_presence(&mut [&mut b1, &mut b2], &alice, "hidden").await;
    a1.set_presence(passerelle_client::ws::SessionPresence::Away)
        .await
        .expect("away");
    a2.set_presence(passerelle_client::ws::SessionPresence::Away)
        .await
        .expect("away");
    all_quiet(&mut [&mut b1, &mut b2], 300).await;
    assert_eq!(
        patch_me(&s, &alice, json!({"presenceVisibility": "contacts"}))
            .await
            .status(),
        StatusCode::OK
    );
    expect_presence(&mut [&mut b1, &mut b2], &alice, "away").await;

    // Bob blocks Alice: each side sees the other hidden; then nothing of
    // hers reaches him: no presence, no typing, no message.
    assert_eq!(
        set_block(&s, &bob, &alice.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    expect_presence(&mut [&mut b1, &mut b2], &alice, "hidden").await;
    expect_presence(&mut [&mut a1, &mut a2], &bob, "hidden").await;
    typing(&mut a1, &conversation, TypingState::Started, None).await;
    let withheld = message_in(&conversation);
    a1.send_message(withheld.clone()).await.expect("send");
    assert!(matches!(next(&mut a1).await, ServerFrame::Sent { .. }));
    a1.close().await.ok();
    a2.close().await.ok();
    all_quiet(&mut [&mut b1, &mut b2], 800).await;
    let state = receipts(&s, &alice, &conversation, withheld.message_id).await;
    assert_eq!(state["delivered"], 0, "{state}");
    assert_eq!(unread_listed(&s, &bob, &conversation).await, 0);

    // Lifted: Bob's devices see where she is now (offline, with a time).
    assert_eq!(
        set_block(&s, &bob, &alice.user_id, false).await.status(),
        StatusCode::NO_CONTENT
    );
    let seen = expect_presence(&mut [&mut b1, &mut b2], &alice, "offline").await;
    assert!(seen.iter().all(|p| p.last_seen_at.is_some()));
}
