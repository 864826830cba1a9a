//! Presence on one node, two users with two devices each: a watcher's
//! sessions see a contact come online, go away only when every session is
//! away, and go offline once the last session has been closed for the
//! grace (a connection that comes back within it announces nothing); the
//! user's own sessions are not told; invisible mode shows offline; the
//! visibility settings decide who sees the status and the last-seen time;
//! blocks hide both ways; contact changes re-announce; the REST views agree
//! with the frames; bad `presence` frames are refused. Node death and
//! nodes on both ends: `presence_nodes.rs`.

use std::time::Duration;

use passerelle_client::Connection;
use passerelle_client::ws::{
    ClientFrame, FrameErrorCode, ServerFrame, SessionPresence, SetPresence, UserPresence,
};
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

/// A node with a short offline grace and sweep, so offline shows quickly.
pub async fn fast_server(grace_ms: u64) -> TestServer {
    builder()
        .env(
            "PASSERELLE__PRESENCE__OFFLINE_GRACE_MS",
            grace_ms.to_string(),
        )
        .env("PASSERELLE__PRESENCE__SWEEP_INTERVAL_MS", "50")
        .env("PASSERELLE__PRESENCE__MIN_INTERVAL_MS", "0")
        .spawn()
        .await
}

/// `a` and `b` have each other as contacts.
pub async fn befriend(s: &TestServer, a: &Device, b: &Device) {
    for (x, y) in [(a, b), (b, a)] {
        let resp = add_contact(s, x, json!({"userId": y.user_id})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
}

/// The next frame of each connection is `who`'s presence with `status`.
pub async fn expect_presence(
    conns: &mut [&mut Connection],
    who: &Device,
    status: &str,
) -> Vec<UserPresence> {
    let mut out = Vec::new();
    for (i, conn) in conns.iter_mut().enumerate() {
        match next(conn).await {
            ServerFrame::Presence { payload } => {
                assert_eq!(payload.user_id.to_string(), who.user_id, "{i}");
                assert_eq!(
                    serde_json::to_value(payload.status).expect("status"),
                    status,
                    "connection {i}: {payload:?}"
                );
                out.push(payload);
            }
            other => panic!("connection {i}: expected presence {status}, got {other:?}"),
        }
    }
    out
}

pub async fn all_quiet(conns: &mut [&mut Connection], ms: u64) {
    for conn in conns.iter_mut() {
        quiet(conn, ms).await;
    }
}

async fn set_presence(conn: &mut Connection, status: SessionPresence) {
    conn.set_presence(status).await.expect("send presence");
}

/// `GET /v1/users/{username}/presence` as `viewer`.
async fn presence_of(s: &TestServer, viewer: &Device, username: &str) -> reqwest::Response {
    call(
        s,
        viewer,
        Method::GET,
        &format!("/v1/users/{username}/presence"),
        None,
    )
    .await
}

/// `GET /v1/presence` as `viewer`: the whole first page.
async fn contacts_presence(s: &TestServer, viewer: &Device) -> Vec<Value> {
    let resp = call(s, viewer, Method::GET, "/v1/presence?limit=100", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["presence"]
        .as_array()
        .expect("presence")
        .clone()
}

#[tokio::test]
async fn contacts_see_online_away_and_offline_on_every_device_but_not_themselves() {
    let s = fast_server(300).await;
    let alice = register(&s, "pr_alice").await;
    let alice2 = login_ok(&s, "pr_alice").await;
    let bob = register(&s, "pr_bob").await;
    let bob2 = login_ok(&s, "pr_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut b1 = ws(&s, &bob).await;
    let mut b2 = ws(&s, &bob2).await;

    // Alice's first session: both of Bob's sessions see her come online.
    let mut a1 = ws(&s, &alice).await;
    let seen = expect_presence(&mut [&mut b1, &mut b2], &alice, "online").await;
    assert!(seen[0].last_seen_at.is_none());
    let v_online = seen[0].version;
    // Her second device changes nothing; her own sessions hear nothing of
    // herself (only of Bob, who was online before her).
    let mut a2 = ws(&s, &alice2).await;
    all_quiet(&mut [&mut b1, &mut b2, &mut a2], 300).await;

    // Away on one device only: still online. Away on both: away.
    set_presence(&mut a1, SessionPresence::Away).await;
    all_quiet(&mut [&mut b1, &mut b2], 300).await;
    set_presence(&mut a2, SessionPresence::Away).await;
    let away = expect_presence(&mut [&mut b1, &mut b2], &alice, "away").await;
    assert!(away[0].version > v_online, "versions increase");
    // Back on one device: online again.
    set_presence(&mut a1, SessionPresence::Online).await;
    expect_presence(&mut [&mut b1, &mut b2], &alice, "online").await;

    // The REST views agree.
    let resp = presence_of(&s, &bob, "pr_alice").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["status"], "online", "{body}");
    assert_eq!(body["userId"], alice.user_id.as_str());
    let listed = contacts_presence(&s, &bob).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0], body, "list and lookup agree");

    // Both of Alice's sessions end: offline after the grace, with the time
    // she was last connected.
    let before_close = chrono::Utc::now();
    a1.close().await.ok();
    a2.close().await.ok();
    let offline = expect_presence(&mut [&mut b1, &mut b2], &alice, "offline").await;
    let last_seen = offline[0].last_seen_at.expect("contacts see last seen");
    assert!(
        last_seen >= before_close - chrono::Duration::seconds(1),
        "{last_seen} vs {before_close}"
    );
    assert!(last_seen <= chrono::Utc::now());
    let body = json(presence_of(&s, &bob, "pr_alice").await).await;
    assert_eq!(body["status"], "offline");
    assert_eq!(
        body["lastSeenAt"].as_str().map(str::to_owned),
        serde_json::to_value(last_seen)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    );
    // Her own view of herself.
    let own = json(presence_of(&s, &alice, "pr_alice").await).await;
    assert_eq!(own["status"], "offline");
    all_quiet(&mut [&mut b1, &mut b2], 300).await;
}

#[tokio::test]
async fn a_connection_that_drops_and_comes_back_within_the_grace_announces_nothing() {
    let s = fast_server(2000).await;
    let alice = register(&s, "pf_alice").await;
    let bob = register(&s, "pf_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut b1 = ws(&s, &bob).await;
    let a1 = ws(&s, &alice).await;
    expect_presence(&mut [&mut b1], &alice, "online").await;
    let online = json(presence_of(&s, &bob, "pf_alice").await).await;

    // A mobile link flapping: three drops and reconnections in a row.
    let mut a1 = Some(a1);
    for _ in 0..3 {
        if let Some(c) = a1.take() {
            c.close().await.ok();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        a1 = Some(ws(&s, &alice).await);
    }
    quiet(&mut b1, 2500).await;
    let after = json(presence_of(&s, &bob, "pf_alice").await).await;
    assert_eq!(after, online, "status and version unchanged");

    // A real departure is announced once the grace is over, not before.
    if let Some(c) = a1.take() {
        c.close().await.ok();
    }
    quiet(&mut b1, 1200).await;
    expect_presence(&mut [&mut b1], &alice, "offline").await;
}

#[tokio::test]
async fn invisible_users_are_offline_to_everyone_while_connected() {
    let s = fast_server(300).await;
    let alice = register(&s, "pi_alice").await;
    let bob = register(&s, "pi_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut b1 = ws(&s, &bob).await;
    let mut a1 = ws(&s, &alice).await;
    expect_presence(&mut [&mut b1], &alice, "online").await;

    let resp = patch_me(&s, &alice, json!({"invisible": true})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["invisible"], true);
    let hidden = expect_presence(&mut [&mut b1], &alice, "offline").await;
    assert!(hidden[0].last_seen_at.is_some(), "looks like a departure");
    assert_eq!(
        json(presence_of(&s, &bob, "pi_alice").await).await["status"],
        "offline"
    );
    // Away, another device, a departure: nothing shows.
    set_presence(&mut a1, SessionPresence::Away).await;
    let alice2 = login_ok(&s, "pi_alice").await;
    let a2 = ws(&s, &alice2).await;
    a2.close().await.ok();
    quiet(&mut b1, 700).await;

    let resp = patch_me(&s, &alice, json!({"invisible": false})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // a1 is still connected and away.
    expect_presence(&mut [&mut b1], &alice, "away").await;
    assert_eq!(
        json(get_me(&s, &alice.access).await).await["invisible"],
        false
    );
}

#[tokio::test]
async fn visibility_settings_decide_who_sees_status_and_last_seen() {
    let s = fast_server(300).await;
    let alice = register(&s, "pv_alice").await;
    let bob = register(&s, "pv_bob").await;
    let carol = register(&s, "pv_carol").await;
    let dave = register(&s, "pv_dave").await;
    // Bob is a mutual contact; Carol has Alice as a contact, not the other
    // way round; Dave has no relation at all.
    befriend(&s, &alice, &bob).await;
    let resp = add_contact(&s, &carol, json!({"userId": alice.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let me = json(get_me(&s, &alice.access).await).await;
    assert_eq!(me["presenceVisibility"], "contacts", "the default");
    assert_eq!(me["lastSeenVisibility"], "contacts", "the default");

    let mut b1 = ws(&s, &bob).await;
    let mut c1 = ws(&s, &carol).await;
    let mut d1 = ws(&s, &dave).await;
    let a1 = ws(&s, &alice).await;
    expect_presence(&mut [&mut b1], &alice, "online").await;
    all_quiet(&mut [&mut c1, &mut d1], 300).await;
    for (viewer, want) in [(&carol, "hidden"), (&dave, "hidden"), (&bob, "online")] {
        let body = json(presence_of(&s, viewer, "pv_alice").await).await;
        assert_eq!(body["status"], want, "{body}");
    }

    // Everyone may see the status, only contacts the last-seen time: the
    // online watcher Carol is told at once; Bob saw it already (nothing
    // changed for him); Dave watches nothing.
    let resp = patch_me(&s, &alice, json!({"presenceVisibility": "everyone"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    expect_presence(&mut [&mut c1], &alice, "online").await;
    all_quiet(&mut [&mut b1, &mut d1], 300).await;
    assert_eq!(
        json(presence_of(&s, &dave, "pv_alice").await).await["status"],
        "online"
    );
    a1.close().await.ok();
    let b = expect_presence(&mut [&mut b1], &alice, "offline").await;
    let c = expect_presence(&mut [&mut c1], &alice, "offline").await;
    assert!(b[0].last_seen_at.is_some());
    assert!(c[0].last_seen_at.is_none(), "last seen is for contacts");
    let body = json(presence_of(&s, &dave, "pv_alice").await).await;
    assert_eq!(body["status"], "offline");
    assert!(body.get("lastSeenAt").is_none(), "{body}");

    // Nobody: the watchers are told it is hidden now.
    let resp = patch_me(&s, &alice, json!({"presenceVisibility": "nobody"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let hidden = expect_presence(&mut [&mut b1, &mut c1], &alice, "hidden").await;
    assert!(hidden.iter().all(|p| p.last_seen_at.is_none()));
    let mut a1 = ws(&s, &alice).await;
    all_quiet(&mut [&mut b1, &mut c1, &mut d1], 300).await;
    for viewer in [&bob, &carol, &dave] {
        let body = json(presence_of(&s, viewer, "pv_alice").await).await;
        assert_eq!(body["status"], "hidden", "{body}");
    }
    // Alice still sees herself.
    assert_eq!(
        json(presence_of(&s, &alice, "pv_alice").await).await["status"],
        "online"
    );
    // Bad values change nothing.
    let resp = patch_me(&s, &alice, json!({"presenceVisibility": "friends"})).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let resp = patch_me(&s, &alice, json!({"invisible": null})).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let me = json(get_me(&s, &alice.access).await).await;
    assert_eq!(me["presenceVisibility"], "nobody");
    assert_eq!(me["invisible"], false);
    set_presence(&mut a1, SessionPresence::Away).await;
    all_quiet(&mut [&mut b1, &mut c1, &mut d1], 300).await;
}

#[tokio::test]
async fn blocks_hide_presence_both_ways_and_lifting_them_shows_it_again() {
    let s = fast_server(300).await;
    let alice = register(&s, "pb_alice").await;
    let alice2 = login_ok(&s, "pb_alice").await;
    let bob = register(&s, "pb_bob").await;
    let bob2 = login_ok(&s, "pb_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut a1 = ws(&s, &alice).await;
    let mut b1 = ws(&s, &bob).await;
    expect_presence(&mut [&mut a1], &bob, "online").await;
    let mut a2 = ws(&s, &alice2).await;
    let mut b2 = ws(&s, &bob2).await;
    all_quiet(&mut [&mut a1, &mut a2, &mut b1, &mut b2], 200).await;

    // Bob blocks Alice: each side's sessions see the other hidden.
    let resp = set_block(&s, &bob, &alice.user_id, true).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_presence(&mut [&mut a1, &mut a2], &bob, "hidden").await;
    expect_presence(&mut [&mut b1, &mut b2], &alice, "hidden").await;
    // Nothing of either reaches the other while the block stands.
    set_presence(&mut a1, SessionPresence::Away).await;
    set_presence(&mut a2, SessionPresence::Away).await;
    set_presence(&mut b1, SessionPresence::Away).await;
    set_presence(&mut b2, SessionPresence::Away).await;
    b2.close().await.ok();
    all_quiet(&mut [&mut a1, &mut a2, &mut b1], 700).await;
    // REST: Bob's profile is gone for Alice (he blocked her): 404 as for
    // nobody; Alice is hidden for Bob; the contact lists say hidden.
    let unknown = not_found_body(presence_of(&s, &alice, "pb_nobody").await).await;
    let refused = not_found_body(presence_of(&s, &alice, "pb_bob").await).await;
    assert_eq!(refused, unknown, "the same 404");
    assert_eq!(
        json(presence_of(&s, &bob, "pb_alice").await).await["status"],
        "hidden"
    );
    for (viewer, other) in [(&alice, &bob), (&bob, &alice)] {
        let listed = contacts_presence(&s, viewer).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["userId"], other.user_id.as_str());
        assert_eq!(listed[0]["status"], "hidden", "{listed:?}");
        assert!(listed[0].get("lastSeenAt").is_none());
    }

    // Lifted: each sees the other's current state again.
    let resp = set_block(&s, &bob, &alice.user_id, false).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_presence(&mut [&mut a1, &mut a2], &bob, "away").await;
    expect_presence(&mut [&mut b1], &alice, "away").await;
    // A second unblock is a no-op: nothing is announced.
    let resp = set_block(&s, &bob, &alice.user_id, false).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    all_quiet(&mut [&mut a1, &mut a2, &mut b1], 300).await;
}

#[tokio::test]
async fn contact_changes_re_announce_what_each_may_see() {
    let s = fast_server(300).await;
    let alice = register(&s, "pc_alice").await;
    let bob = register(&s, "pc_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut a1 = ws(&s, &alice).await;
    let mut b1 = ws(&s, &bob).await;
    expect_presence(&mut [&mut a1], &bob, "online").await;

    // Alice drops Bob from her contacts: with `contacts` visibility he may
    // no longer see her (he still has her as a contact: he is told).
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/contacts/{}", bob.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    expect_presence(&mut [&mut b1], &alice, "hidden").await;
    // She no longer watches him: nothing for her.
    quiet(&mut a1, 300).await;
    set_presence(&mut b1, SessionPresence::Away).await;
    quiet(&mut a1, 300).await;

    // She adds him back: she hears his current state, he hers.
    let resp = add_contact(&s, &alice, json!({"userId": bob.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    expect_presence(&mut [&mut a1], &bob, "away").await;
    expect_presence(&mut [&mut b1], &alice, "online").await;
}

#[tokio::test]
async fn bad_presence_frames_are_refused_and_change_nothing() {
    let s = builder().spawn().await;
    let alice = register(&s, "pe_alice").await;
    let bob = register(&s, "pe_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut b1 = ws(&s, &bob).await;
    let mut a1 = ws(&s, &alice).await;
    expect_presence(&mut [&mut b1], &alice, "online").await;

    for (payload, what) in [
        (json!({"status": "busy"}), "busy"),
        (json!({}), "status"),
        (json!({"status": "away", "note": "x"}), "note"),
        (json!({"status": 1}), "integer"),
    ] {
        a1.send_raw(&json!({"type": "presence", "id": "p", "payload": payload}).to_string())
            .await
            .expect("send");
        match next(&mut a1).await {
            ServerFrame::Error { id, payload } => {
                assert_eq!(payload.code, FrameErrorCode::InvalidPayload, "{payload:?}");
                assert_eq!(id.as_deref(), Some("p"));
                assert!(payload.message.contains(what), "{}", payload.message);
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
    quiet(&mut b1, 300).await;

    // One change per `presence.min_interval_ms` (1 s by default): the
    // second, too soon, is refused and not applied.
    let frame = ClientFrame::Presence(SetPresence {
        status: SessionPresence::Away,
    });
    a1.send(&frame, Some("first")).await.expect("send");
    expect_presence(&mut [&mut b1], &alice, "away").await;
    let frame = ClientFrame::Presence(SetPresence {
        status: SessionPresence::Online,
    });
    a1.send(&frame, Some("second")).await.expect("send");
    match next(&mut a1).await {
        ServerFrame::Error { id, payload } => {
            assert_eq!(payload.code, FrameErrorCode::RateLimited);
            assert_eq!(id.as_deref(), Some("second"));
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    quiet(&mut b1, 300).await;
    assert_eq!(
        json(presence_of(&s, &bob, "pe_alice").await).await["status"],
        "away"
    );
    // Malformed lookups are 4xx, never 5xx.
    let resp = presence_of(&s, &bob, "not a name").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = call(&s, &bob, Method::GET, "/v1/presence?limit=0", None).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = call(&s, &bob, Method::GET, "/v1/presence?cursor=zz", None).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = s
        .http()
        .get(s.url("/v1/presence"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_devices_stop_counting_and_cannot_look() {
    let s = fast_server(300).await;
    let alice = register(&s, "pr2_alice").await;
    let alice2 = login_ok(&s, "pr2_alice").await;
    let bob = register(&s, "pr2_bob").await;
    befriend(&s, &alice, &bob).await;
    let mut b1 = ws(&s, &bob).await;
    let mut a2 = ws(&s, &alice2).await;
    expect_presence(&mut [&mut b1], &alice, "online").await;

    // Alice revokes her second device from the first: its session closes,
    // it was her only one, so she goes offline after the grace.
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/devices/{}", alice2.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        closed_with(&mut a2).await,
        passerelle_client::ws::close::REVOKED
    );
    expect_presence(&mut [&mut b1], &alice, "offline").await;
    // The revoked device can neither look nor set anything.
    for path in ["/v1/presence", "/v1/users/pr2_bob/presence"] {
        let resp = call(&s, &alice2, Method::GET, path, None).await;
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let resp = patch_me(&s, &alice2, json!({"invisible": true})).await;
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(
        json(get_me(&s, &alice.access).await).await["invisible"],
        false
    );
    quiet(&mut b1, 300).await;
}
