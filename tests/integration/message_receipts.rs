//! A message's aggregated delivery and read state for its sender,
//! `GET /v1/conversations/{id}/messages/{messageId}/receipts`: in a group
//! of three (two users with two devices each) it goes none → some → all as
//! members' devices acknowledge and members read; a direct message counts
//! its one recipient the same way; `readReceipts: false` counts as unread;
//! blocks either way show the member as having nothing; only the sender may
//! ask, everyone else gets the 404 of a message that does not exist; bad
//! ids are 4xx; the per-member list stops past 100 recipients.

use std::time::Duration;

use passerelle_client::Connection;
use passerelle_client::ws::{SendMessage, ServerFrame};
use passerelle_test_support::TestServer;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

async fn receipts(s: &TestServer, d: &Device, conversation: &str, message: Uuid) -> Response {
    call(
        s,
        d,
        Method::GET,
        &format!("/v1/conversations/{conversation}/messages/{message}/receipts"),
        None,
    )
    .await
}

/// The state, asserting 200.
async fn state(s: &TestServer, d: &Device, conversation: &str, message: Uuid) -> Value {
    let resp = receipts(s, d, conversation, message).await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await
}

/// Acknowledgements have no answer: polls until the state has `delivered`
/// and `read` as given (within 10 s).
async fn state_reaching(
    s: &TestServer,
    d: &Device,
    conversation: &str,
    message: Uuid,
    delivered: u64,
    read: u64,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = state(s, d, conversation, message).await;
        if r["delivered"] == delivered && r["read"] == read {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected delivered {delivered} and read {read}, still {r}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts the counts and the two states.
fn assert_counts(r: &Value, recipients: u64, delivered: u64, read: u64) {
    let state = |n: u64| match n {
        0 => "none",
        n if n == recipients => "all",
        _ => "some",
    };
    assert_eq!(r["recipients"], recipients, "{r}");
    assert_eq!(r["delivered"], delivered, "{r}");
    assert_eq!(r["read"], read, "{r}");
    assert_eq!(r["deliveryState"], state(delivered), "{r}");
    assert_eq!(r["readState"], state(read), "{r}");
}

/// The per-member entries as (user id, delivered, read), in list order.
fn members(r: &Value) -> Vec<(String, bool, bool)> {
    r["members"]
        .as_array()
        .unwrap_or_else(|| panic!("members listed: {r}"))
        .iter()
        .map(|m| {
            assert_eq!(m.as_object().map(|o| o.len()), Some(3), "{m}");
            (
                m["userId"].as_str().expect("userId").to_owned(),
                m["delivered"].as_bool().expect("delivered"),
                m["read"].as_bool().expect("read"),
            )
        })
        .collect()
}

fn entry(d: &Device, delivered: bool, read: bool) -> (String, bool, bool) {
    (d.user_id.clone(), delivered, read)
}

/// Sends `m`; returns its server id once `sent` arrives.
async fn send(conn: &mut Connection, m: SendMessage) -> Uuid {
    conn.send_message(m.clone()).await.expect("send");
    loop {
        match next(conn).await {
            ServerFrame::Sent { payload, .. } if payload.message_id == m.message_id => {
                return payload.server_id;
            }
            ServerFrame::Sent { .. }
            | ServerFrame::Message { .. }
            | ServerFrame::Receipt { .. }
            | ServerFrame::Conversation { .. }
            | ServerFrame::Read { .. } => {}
            other => panic!("expected sent, got {other:?}"),
        }
    }
}

/// Reads until the `message` event of `message_id`; returns its sequence.
async fn seq_of(conn: &mut Connection, message_id: Uuid) -> u64 {
    loop {
        match next(conn).await {
            ServerFrame::Message { seq, payload } if payload.message_id == message_id => {
                return seq;
            }
            ServerFrame::Message { .. }
            | ServerFrame::Receipt { .. }
            | ServerFrame::Conversation { .. }
            | ServerFrame::Read { .. } => {}
            other => panic!("expected message {message_id}, got {other:?}"),
        }
    }
}

/// The device behind `conn` receives `message_id` and acknowledges it.
async fn receive(conn: &mut Connection, message_id: Uuid) {
    let seq = seq_of(conn, message_id).await;
    conn.ack(seq).await.expect("ack");
}

async fn mark_read(s: &TestServer, d: &Device, conversation: &str, server_id: Uuid) {
    let resp = call(
        s,
        d,
        Method::PUT,
        &format!("/v1/conversations/{conversation}/read"),
        Some(json!({ "serverId": server_id })),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// A group of three: Ann (two devices) owns it, Bob (two devices) and Cat
/// (one) are members; every device is connected and resumed.
struct Trio {
    s: TestServer,
    ann: Device,
    ann2: Device,
    bob: Device,
    cat: Device,
    ca1: Connection,
    ca2: Connection,
    cb1: Connection,
    cb2: Connection,
    cc: Connection,
    group: String,
}

async fn trio() -> Trio {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let ann2 = login_ok(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let bob2 = login_ok(&s, "bob").await;
    let cat = register(&s, "cat").await;
    let group = group_with(&s, &ann, "trio", &[&bob, &cat]).await;
    let (ca1, _) = ws_resumed(&s, &ann, None).await;
    let (ca2, _) = ws_resumed(&s, &ann2, None).await;
    let (cb1, _) = ws_resumed(&s, &bob, None).await;
    let (cb2, _) = ws_resumed(&s, &bob2, None).await;
    let (cc, _) = ws_resumed(&s, &cat, None).await;
    Trio {
        s,
        ann,
        ann2,
        bob,
        cat,
        ca1,
        ca2,
        cb1,
        cb2,
        cc,
        group,
    }
}

#[tokio::test]
async fn group_state_goes_from_none_to_some_to_all_as_members_receive_and_read() {
    let mut t = trio().await;
    let x = message_in(&t.group);
    let server_id = send(&mut t.ca1, x.clone()).await;

    // Sent, nobody has it yet; any device of the sender may ask.
    for d in [&t.ann, &t.ann2] {
        let r = state(&t.s, d, &t.group, x.message_id).await;
        assert_counts(&r, 2, 0, 0);
        assert_eq!(r["conversationId"], t.group.as_str());
        assert_eq!(r["messageId"], x.message_id.to_string());
        assert_eq!(r["serverId"], server_id.to_string());
        assert_eq!(
            members(&r),
            vec![entry(&t.bob, false, false), entry(&t.cat, false, false)]
        );
    }
    // The sender's other device acknowledging its copy changes nothing.
    receive(&mut t.ca2, x.message_id).await;

    // Bob's second device acknowledges: some.
    receive(&mut t.cb2, x.message_id).await;
    let r = state_reaching(&t.s, &t.ann, &t.group, x.message_id, 1, 0).await;
    assert_counts(&r, 2, 1, 0);
    assert_eq!(
        members(&r),
        vec![entry(&t.bob, true, false), entry(&t.cat, false, false)]
    );
    // Bob's first device too: still one member. (Its own send after the ack
    // goes through the same writer, so the ack is applied once it is sent.)
    receive(&mut t.cb1, x.message_id).await;
    let y = message_in(&t.group);
    let y_id = send(&mut t.cb1, y.clone()).await;
    assert_counts(&state(&t.s, &t.ann, &t.group, x.message_id).await, 2, 1, 0);

    // Cat's device acknowledges (a later message covers it too): all.
    receive(&mut t.cc, y.message_id).await;
    let r = state_reaching(&t.s, &t.ann, &t.group, x.message_id, 2, 0).await;
    assert_counts(&r, 2, 2, 0);

    // Bob reads up to it: some read. Cat reads up to Bob's later message,
    // which covers it: all read.
    mark_read(&t.s, &t.bob, &t.group, server_id).await;
    let r = state(&t.s, &t.ann2, &t.group, x.message_id).await;
    assert_counts(&r, 2, 2, 1);
    assert_eq!(
        members(&r),
        vec![entry(&t.bob, true, true), entry(&t.cat, true, false)]
    );
    mark_read(&t.s, &t.cat, &t.group, y_id).await;
    let r = state(&t.s, &t.ann, &t.group, x.message_id).await;
    assert_counts(&r, 2, 2, 2);
    assert_eq!(
        members(&r),
        vec![entry(&t.bob, true, true), entry(&t.cat, true, true)]
    );

    // Bob's message: Ann and Cat are its recipients, Bob is not; Cat's
    // read covers it, Ann has not read, and her devices have not
    // acknowledged it yet.
    let r = state(&t.s, &t.bob, &t.group, y.message_id).await;
    assert_counts(&r, 2, 1, 1);
    assert_eq!(
        members(&r),
        vec![entry(&t.ann, false, false), entry(&t.cat, true, true)]
    );
    receive(&mut t.ca1, y.message_id).await;
    state_reaching(&t.s, &t.bob, &t.group, y.message_id, 2, 1).await;

    // A member who joins later is not a recipient of what came before.
    let dan = register(&t.s, "dan").await;
    let resp = add_member(&t.s, &t.ann, &t.group, &dan.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_counts(&state(&t.s, &t.ann, &t.group, x.message_id).await, 2, 2, 2);
    // And one who leaves is no longer counted.
    let resp = call(
        &t.s,
        &t.cat,
        Method::DELETE,
        &format!("/v1/conversations/{}/members/{}", t.group, t.cat.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let r = state(&t.s, &t.ann, &t.group, x.message_id).await;
    assert_counts(&r, 1, 1, 1);
    assert_eq!(members(&r), vec![entry(&t.bob, true, true)]);
}

#[tokio::test]
async fn a_direct_message_counts_its_one_recipient_the_same_way() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let ann2 = login_ok(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let bob2 = login_ok(&s, "bob").await;
    let (mut ca1, _) = ws_resumed(&s, &ann, None).await;
    let (mut ca2, _) = ws_resumed(&s, &ann2, None).await;
    let (mut cb1, _) = ws_resumed(&s, &bob, None).await;
    let (mut cb2, _) = ws_resumed(&s, &bob2, None).await;
    let x = message_to(&bob.user_id);
    let server_id = send(&mut ca1, x.clone()).await;
    let seq = seq_of(&mut cb1, x.message_id).await;
    let ServerFrame::Message { payload, .. } = next(&mut ca2).await else {
        panic!("the sync copy");
    };
    let conversation = payload.conversation_id.expect("conversation").to_string();

    let r = state(&s, &ann, &conversation, x.message_id).await;
    assert_counts(&r, 1, 0, 0);
    assert_eq!(members(&r), vec![entry(&bob, false, false)]);

    // Bob's first device acknowledges: the per-device receipt reaches both
    // of Ann's devices, and the aggregate says delivered to all.
    cb1.ack(seq).await.expect("ack");
    for conn in [&mut ca1, &mut ca2] {
        match next(conn).await {
            ServerFrame::Receipt { payload, .. } => {
                assert_eq!(payload.message_id, x.message_id);
                assert_eq!(payload.device_id.to_string(), bob.device_id);
            }
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
    let r = state_reaching(&s, &ann, &conversation, x.message_id, 1, 0).await;
    assert_counts(&r, 1, 1, 0);
    // Bob's second device: still one recipient.
    receive(&mut cb2, x.message_id).await;

    // Bob reads on his second device: read by all.
    mark_read(&s, &bob2, &conversation, server_id).await;
    let r = state(&s, &ann2, &conversation, x.message_id).await;
    assert_counts(&r, 1, 1, 1);
    assert_eq!(members(&r), vec![entry(&bob, true, true)]);
}

#[tokio::test]
async fn read_receipts_off_counts_as_not_read() {
    let mut t = trio().await;
    let resp = patch_me(&t.s, &t.cat, json!({"readReceipts": false})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let x = message_in(&t.group);
    let server_id = send(&mut t.ca1, x.clone()).await;
    receive(&mut t.cb1, x.message_id).await;
    receive(&mut t.cc, x.message_id).await;
    state_reaching(&t.s, &t.ann, &t.group, x.message_id, 2, 0).await;
    mark_read(&t.s, &t.bob, &t.group, server_id).await;
    mark_read(&t.s, &t.cat, &t.group, server_id).await;
    // Cat's read is hers alone: delivered to her, not read as Ann sees it.
    let r = state(&t.s, &t.ann, &t.group, x.message_id).await;
    assert_counts(&r, 2, 2, 1);
    assert_eq!(
        members(&r),
        vec![entry(&t.bob, true, true), entry(&t.cat, true, false)]
    );
    // Turning them on again shows her marker as it stands.
    let resp = patch_me(&t.s, &t.cat, json!({"readReceipts": true})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_counts(&state(&t.s, &t.ann, &t.group, x.message_id).await, 2, 2, 2);

    // In a direct conversation the same: read without receipts is unread.
    let resp = patch_me(&t.s, &t.bob, json!({"readReceipts": false})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let d = message_to(&t.bob.user_id);
    let d_id = send(&mut t.ca1, d.clone()).await;
    let seq = seq_of(&mut t.cb2, d.message_id).await;
    t.cb2.ack(seq).await.expect("ack");
    let direct = history_conversation(&t.s, &t.bob, d.message_id).await;
    mark_read(&t.s, &t.bob, &direct, d_id).await;
    let r = state_reaching(&t.s, &t.ann, &direct, d.message_id, 1, 0).await;
    assert_counts(&r, 1, 1, 0);
    assert_eq!(members(&r), vec![entry(&t.bob, true, false)]);
}

/// The conversation of the message `message_id`, as `d`'s list finds it
/// (the newest direct conversation holding it).
async fn history_conversation(s: &TestServer, d: &Device, message_id: Uuid) -> String {
    let list = json(call(s, d, Method::GET, "/v1/conversations", None).await).await;
    for c in list["conversations"].as_array().expect("conversations") {
        let id = c["id"].as_str().expect("id").to_owned();
        if history_ids(s, d, &id).await.contains(&message_id) {
            return id;
        }
    }
    panic!("no conversation of {} holds {message_id}", d.user_id);
}

#[tokio::test]
async fn blocks_either_way_show_the_member_as_having_nothing() {
    let mut t = trio().await;
    // Before any block: Bob and Cat have X and read it.
    let x = message_in(&t.group);
    let x_id = send(&mut t.ca1, x.clone()).await;
    receive(&mut t.cb1, x.message_id).await;
    receive(&mut t.cc, x.message_id).await;
    mark_read(&t.s, &t.bob, &t.group, x_id).await;
    mark_read(&t.s, &t.cat, &t.group, x_id).await;
    state_reaching(&t.s, &t.ann, &t.group, x.message_id, 2, 2).await;

    // Bob blocks Ann: his state is hidden from her, even for what he had
    // before the block. She blocks Cat: Cat's is hidden too. Both stay
    // recipients, like members who never came online.
    assert_eq!(
        set_block(&t.s, &t.bob, &t.ann.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    let r = state(&t.s, &t.ann, &t.group, x.message_id).await;
    assert_counts(&r, 2, 1, 1);
    assert_eq!(
        members(&r),
        vec![entry(&t.bob, false, false), entry(&t.cat, true, true)]
    );
    assert_eq!(
        set_block(&t.s, &t.ann, &t.cat.user_id, true).await.status(),
        StatusCode::NO_CONTENT
    );
    let hidden = state(&t.s, &t.ann, &t.group, x.message_id).await;
    assert_counts(&hidden, 2, 0, 0);
    assert_eq!(
        members(&hidden),
        vec![entry(&t.bob, false, false), entry(&t.cat, false, false)]
    );

    // During the blocks: Ann's Z is withheld from Bob (he blocks her), and
    // reaches Cat (Ann's block does not stop her own messages). Cat's later
    // W reaches Bob, who acknowledges and reads past Z; Cat acknowledges and
    // reads Z. Ann learns nothing of either.
    let z = message_in(&t.group);
    let z_id = send(&mut t.ca1, z.clone()).await;
    receive(&mut t.cc, z.message_id).await;
    mark_read(&t.s, &t.cat, &t.group, z_id).await;
    let w = message_in(&t.group);
    let w_id = send(&mut t.cc, w.clone()).await;
    let seq = seq_of(&mut t.cb1, w.message_id).await;
    t.cb1.ack(seq).await.expect("ack");
    mark_read(&t.s, &t.bob, &t.group, w_id).await;
    // Wait until Bob's ack is applied (it shows to Cat, whom he does not
    // block), then look as Ann.
    state_reaching(&t.s, &t.cat, &t.group, w.message_id, 1, 1).await;
    let r = state(&t.s, &t.ann, &t.group, z.message_id).await;
    assert_counts(&r, 2, 0, 0);
    assert_eq!(
        members(&r),
        vec![entry(&t.bob, false, false), entry(&t.cat, false, false)]
    );
    assert_eq!(state(&t.s, &t.ann, &t.group, x.message_id).await, hidden);
    // The blocked side learns nothing either: Cat (blocked by Ann) and Bob
    // (who blocks her) asking about Ann's messages get the 404 of nothing.
    let nothing = not_found_body(receipts(&t.s, &t.cat, &t.group, Uuid::new_v4()).await).await;
    for (d, m) in [(&t.cat, x.message_id), (&t.bob, z.message_id)] {
        assert_eq!(
            not_found_body(receipts(&t.s, d, &t.group, m).await).await,
            nothing
        );
    }
    // Cat asks about her W: Ann, who blocks her, never got it and shows
    // nothing; even Ann's own reading past it (she reads Bob's later
    // message) stays hidden from Cat.
    let v = message_in(&t.group);
    let v_id = send(&mut t.cb1, v.clone()).await;
    receive(&mut t.ca1, v.message_id).await;
    mark_read(&t.s, &t.ann, &t.group, v_id).await;
    // A send after the ack goes through the same writer: once it is sent,
    // the ack is applied.
    send(&mut t.ca1, message_to(&t.bob.user_id)).await;
    let r = state(&t.s, &t.cat, &t.group, w.message_id).await;
    assert_counts(&r, 2, 1, 1);
    assert_eq!(
        members(&r),
        vec![entry(&t.ann, false, false), entry(&t.bob, true, true)]
    );

    // Lifted, the positions count as they stand.
    set_block(&t.s, &t.bob, &t.ann.user_id, false).await;
    set_block(&t.s, &t.ann, &t.cat.user_id, false).await;
    assert_counts(&state(&t.s, &t.ann, &t.group, x.message_id).await, 2, 2, 2);
}

#[tokio::test]
async fn a_direct_message_withheld_by_a_block_is_never_delivered() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let (mut ca, _) = ws_resumed(&s, &ann, None).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;
    // A first message, delivered and read; then Bob blocks Ann.
    let first = message_to(&bob.user_id);
    let first_id = send(&mut ca, first.clone()).await;
    receive(&mut cb, first.message_id).await;
    let direct = history_conversation(&s, &bob, first.message_id).await;
    mark_read(&s, &bob, &direct, first_id).await;
    state_reaching(&s, &ann, &direct, first.message_id, 1, 1).await;
    set_block(&s, &bob, &ann.user_id, true).await;
    // Ann's next message is withheld from Bob (she gets an ordinary sent).
    let second = message_to(&bob.user_id);
    send(&mut ca, second.clone()).await;
    let r = state(&s, &ann, &direct, second.message_id).await;
    assert_counts(&r, 1, 0, 0);
    assert_eq!(members(&r), vec![entry(&bob, false, false)]);
    // Bob's state of the first is hidden while the block stands.
    assert_counts(&state(&s, &ann, &direct, first.message_id).await, 1, 0, 0);
    // Bob, blocking, cannot ask about Ann's messages (not his).
    not_found_body(receipts(&s, &bob, &direct, second.message_id).await).await;
    // Even unblocked, the withheld message stays undelivered.
    set_block(&s, &bob, &ann.user_id, false).await;
    assert_counts(&state(&s, &ann, &direct, second.message_id).await, 1, 0, 0);
    assert_counts(&state(&s, &ann, &direct, first.message_id).await, 1, 1, 1);
}

#[tokio::test]
async fn only_the_sender_may_ask_and_everyone_else_gets_the_404_of_nothing() {
    let mut t = trio().await;
    let outsider = register(&t.s, "olga").await;
    let x = message_in(&t.group);
    send(&mut t.ca1, x.clone()).await;
    let direct_msg = message_to(&t.bob.user_id);
    send(&mut t.ca1, direct_msg.clone()).await;
    let direct = history_conversation(&t.s, &t.bob, direct_msg.message_id).await;
    let nowhere = Uuid::now_v7().to_string();

    // For each caller, the real message and the twin that names nothing get
    // byte for byte the same 404.
    let unknown = not_found_body(receipts(&t.s, &t.ann, &t.group, Uuid::new_v4()).await).await;
    for (who, d, c, m) in [
        ("another member", &t.bob, &t.group, x.message_id),
        ("another member", &t.cat, &t.group, x.message_id),
        ("the direct peer", &t.bob, &direct, direct_msg.message_id),
        ("an outsider", &outsider, &t.group, x.message_id),
        ("an outsider", &outsider, &direct, direct_msg.message_id),
        (
            "a member of the other conversation",
            &t.cat,
            &direct,
            direct_msg.message_id,
        ),
        (
            "the sender, wrong conversation",
            &t.ann,
            &direct,
            x.message_id,
        ),
        (
            "the sender, unknown conversation",
            &t.ann,
            &nowhere,
            x.message_id,
        ),
    ] {
        let hidden = not_found_body(receipts(&t.s, d, c, m).await).await;
        let twin = not_found_body(receipts(&t.s, d, &nowhere, Uuid::new_v4()).await).await;
        assert_eq!(hidden, twin, "{who}");
        assert_eq!(hidden, unknown, "{who}");
    }

    // A removed member, the sender included, is an outsider again.
    let c = message_in(&t.group);
    send(&mut t.cc, c.clone()).await;
    assert_eq!(
        receipts(&t.s, &t.cat, &t.group, c.message_id)
            .await
            .status(),
        StatusCode::OK
    );
    let resp = call(
        &t.s,
        &t.ann,
        Method::DELETE,
        &format!("/v1/conversations/{}/members/{}", t.group, t.cat.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let hidden = not_found_body(receipts(&t.s, &t.cat, &t.group, c.message_id).await).await;
    assert_eq!(hidden, unknown);

    // A retracted message is gone.
    let resp = call(
        &t.s,
        &t.ann,
        Method::DELETE,
        &format!("/v1/conversations/{}/messages/{}", t.group, x.message_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let hidden = not_found_body(receipts(&t.s, &t.ann, &t.group, x.message_id).await).await;
    assert_eq!(hidden, unknown);

    // A revoked device: 401.
    let resp = call(
        &t.s,
        &t.ann2,
        Method::DELETE,
        &format!("/v1/devices/{}", t.ann2.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = receipts(&t.s, &t.ann2, &direct, direct_msg.message_id).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // The sender still gets it.
    assert_eq!(
        receipts(&t.s, &t.ann, &direct, direct_msg.message_id)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_ids_and_methods_are_4xx() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let c = Uuid::now_v7();
    let m = Uuid::new_v4();
    for path in [
        format!("/v1/conversations/not-a-uuid/messages/{m}/receipts"),
        format!("/v1/conversations/{c}/messages/not-a-uuid/receipts"),
        format!("/v1/conversations/{c}/messages/{}/receipts", "1".repeat(40)),
    ] {
        let resp = call(&s, &ann, Method::GET, &path, None).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;
    }
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let path = format!("/v1/conversations/{c}/messages/{m}/receipts");
        let resp = call(&s, &ann, method, &path, Some(json!({}))).await;
        expect_error(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
    let resp = s
        .http()
        .get(s.url(&format!("/v1/conversations/{c}/messages/{m}/receipts")))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn the_member_list_is_left_out_past_a_hundred_recipients() {
    let s = builder()
        .env("PASSERELLE__LIMITS__REGISTER_PER_ADDRESS", "1000")
        .spawn()
        .await;
    let ann = register(&s, "ann").await;
    let mut others = Vec::new();
    for i in 0..101 {
        others.push(register(&s, &format!("member{i:03}")).await);
    }
    let refs: Vec<&Device> = others.iter().take(100).collect();
    let group = group_with(&s, &ann, "crowd", &refs).await;
    let (mut ca, _) = ws_resumed(&s, &ann, None).await;
    let at_cap = message_in(&group);
    send(&mut ca, at_cap.clone()).await;
    let resp = add_member(&s, &ann, &group, &others[100].user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let past_cap = message_in(&group);
    send(&mut ca, past_cap.clone()).await;

    let r = state(&s, &ann, &group, at_cap.message_id).await;
    assert_counts(&r, 100, 0, 0);
    let listed = members(&r);
    assert_eq!(listed.len(), 100);
    assert!(listed.iter().all(|(_, d, r)| !d && !r));
    let r = state(&s, &ann, &group, past_cap.message_id).await;
    assert_counts(&r, 101, 0, 0);
    assert!(r.get("members").is_none(), "{r}");
    // Counts still move: one member reads.
    let last = &others[100];
    let server_id = r["serverId"]
        .as_str()
        .expect("serverId")
        .parse()
        .expect("uuid");
    mark_read(&s, last, &group, server_id).await;
    assert_counts(
        &state(&s, &ann, &group, past_cap.message_id).await,
        101,
        1,
        1,
    );
}

/// Frames until quiet; asserts none is a delivery receipt.
async fn no_receipt(conn: &mut Connection) {
    loop {
        match conn.next_timeout(Duration::from_millis(500)).await {
            Ok(None) => return,
            Ok(Some(ServerFrame::Receipt { payload, .. })) => {
                panic!("a receipt across a block: {payload:?}")
            }
            Ok(Some(_)) => {}
            Err(e) => panic!("connection error: {e}"),
        }
    }
}

#[tokio::test]
async fn no_per_device_receipt_crosses_a_block_either_way() {
    let s = server().await;
    let ann = register(&s, "ann").await;
    let bob = register(&s, "bob").await;
    let (mut ca, _) = ws_resumed(&s, &ann, None).await;
    let (mut cb, _) = ws_resumed(&s, &bob, None).await;

    // Ann blocks Bob and still writes to him (her choice): he gets it, and
    // his device acknowledging it tells her nothing.
    set_block(&s, &ann, &bob.user_id, true).await;
    let x = message_to(&bob.user_id);
    send(&mut ca, x.clone()).await;
    let direct = history_conversation(&s, &bob, x.message_id).await;
    receive(&mut cb, x.message_id).await;
    // Bob's next send goes through the same writer: the ack is applied.
    send(&mut cb, message_to(&bob.user_id)).await;
    no_receipt(&mut ca).await;
    assert_counts(&state(&s, &ann, &direct, x.message_id).await, 1, 0, 0);
    set_block(&s, &ann, &bob.user_id, false).await;

    // Bob has Ann's next message, then blocks her before acknowledging it:
    // no receipt either.
    let y = message_to(&bob.user_id);
    send(&mut ca, y.clone()).await;
    let seq = seq_of(&mut cb, y.message_id).await;
    set_block(&s, &bob, &ann.user_id, true).await;
    cb.ack(seq).await.expect("ack");
    send(&mut cb, message_to(&bob.user_id)).await;
    no_receipt(&mut ca).await;
    assert_counts(&state(&s, &ann, &direct, y.message_id).await, 1, 0, 0);

    // Without a block, receipts flow as before.
    set_block(&s, &bob, &ann.user_id, false).await;
    let z = message_to(&bob.user_id);
    send(&mut ca, z.clone()).await;
    receive(&mut cb, z.message_id).await;
    loop {
        match next(&mut ca).await {
            ServerFrame::Receipt { payload, .. } => {
                assert_eq!(payload.message_id, z.message_id);
                break;
            }
            ServerFrame::Message { .. } => {}
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
    assert_counts(&state(&s, &ann, &direct, z.message_id).await, 1, 1, 0);
}

#[tokio::test]
async fn a_message_requests_requester_learns_delivery_but_not_reading() {
    let s = server().await;
    let dora = register(&s, "dora").await;
    let rita = register(&s, "rita").await;
    let resp = patch_me(&s, &dora, json!({"messagePolicy": "contacts"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (mut cd, _) = ws_resumed(&s, &dora, None).await;
    let (mut cr, _) = ws_resumed(&s, &rita, None).await;
    let x = message_to(&dora.user_id);
    let x_id = send(&mut cr, x.clone()).await;
    let request = history_conversation(&s, &dora, x.message_id).await;
    // Delivery flows while the request is pending (as per-device receipts
    // do); Dora's reading does not.
    receive(&mut cd, x.message_id).await;
    mark_read(&s, &dora, &request, x_id).await;
    let r = state_reaching(&s, &rita, &request, x.message_id, 1, 0).await;
    assert_eq!(members(&r), vec![entry(&dora, true, false)]);
    // Accepted, it is an ordinary conversation.
    let resp = call(
        &s,
        &dora,
        Method::POST,
        &format!("/v1/message-requests/{request}/accept"),
        None,
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_counts(&state(&s, &rita, &request, x.message_id).await, 1, 1, 1);
}
