//! The authorization matrix (issue 4, item 11): every conversation-scoped
//! and user-scoped endpoint, and every client frame that names something,
//! tried by a non-member, a removed member, a blocked user and a revoked
//! device against a private group, a direct conversation, a link room, a
//! game invitation and a message request that belong to others. Each
//! refusal is exact (status and code); each `404` is the whole body that an
//! id naming nothing gets, so not even existence leaks; afterwards nothing
//! changed, as the owners see it, and no legitimate session heard a thing.
//! Beside the matrix: the `403` side of the rule (callers who legitimately
//! know the thing), and what a block does and does not stop.

use passerelle_client::Connection;
use passerelle_client::ws::{
    ClientFrame, EnterRoom, FrameErrorCode, LeaveRoom, MessageType, Ready, Reauth, RoomChange,
    SendMessage, ServerFrame, Typing, TypingState,
};
use passerelle_client::{Client, ClientError, ConnectOptions, TokenTransport};
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;
use crate::link_rooms::{enter, expect_room, leave, new_room};

/// What every actor aims at: things that belong to others.
struct World {
    /// Owns the group (Bob is its admin, Ivy is invited), shares the direct
    /// conversation with Bob, invited him to a game, is in the room with him;
    /// has Bob as a contact and blocks `blocked`.
    alice: Device,
    bob: Device,
    ivy: Device,
    /// Asked for `messagePolicy: contacts`; Rita's message is a request.
    dora: Device,
    rita: Device,
    /// Registered, never involved.
    stranger: Device,
    /// Was a member of the group (and a participant of the room), then
    /// removed (and left).
    removed: Device,
    /// Blocked by Alice and Bob; once wrote to Alice, before the block.
    blocked: Device,
    /// Bob's second device, revoked with `DELETE /v1/devices/{id}`.
    revoked: Device,
    group: String,
    direct: String,
    room: String,
    request: String,
    /// The blocked user's direct conversation with Alice.
    blocked_dm: String,
    /// Per conversation: a label, its id, one of its members, and the
    /// `messageId` of a message a member sent in it.
    said: Vec<(&'static str, String, String, Uuid)>,
    /// Alice's game invitation to Bob (its message id).
    game: Uuid,
    room_link: Uuid,
    /// The link of a room that has ended.
    dead_link: Uuid,
    /// The group's replaced join token.
    old_token: String,
}

/// Sends `m` and expects an ordinary `sent`.
async fn sent_ok(conn: &mut Connection, m: SendMessage) {
    conn.send_message(m.clone()).await.expect("send");
    match next(conn).await {
        ServerFrame::Sent { payload, .. } => {
            assert_eq!(payload.message_id, m.message_id);
            assert!(payload.seq > 0 && !payload.duplicate, "{payload:?}");
        }
        other => panic!("expected sent, got {other:?}"),
    }
}

/// Sends `frame` with the correlation id `id` and returns the refusal it
/// gets: the echoed id, the code and the message.
async fn refused(
    conn: &mut Connection,
    frame: ClientFrame,
    id: &str,
) -> (String, FrameErrorCode, String) {
    conn.send(&frame, Some(id)).await.expect("send");
    match next(conn).await {
        ServerFrame::Error { id, payload } => {
            (id.unwrap_or_default(), payload.code, payload.message)
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A session of `d` that has not resumed yet, with its `ready`.
async fn ws_ready(s: &TestServer, d: &Device) -> (Connection, Ready) {
    let client = Client::new(&s.url(""));
    let mut conn = client.connect(&d.access).await.expect("websocket");
    let (ready, _unread) = conn.greeting().await.expect("ready, then unread");
    (conn, ready)
}

/// A session of `d` resumed at its stream's end: it gets what happens from
/// now on, and nothing that happened before.
async fn ws_from_now(s: &TestServer, d: &Device) -> Connection {
    let (mut conn, ready) = ws_ready(s, d).await;
    conn.resume(Some(ready.last_seq)).await.expect("resume");
    match next(&mut conn).await {
        ServerFrame::Synced { payload, .. } => assert_eq!(payload.last_seq, ready.last_seq),
        other => panic!("expected synced, got {other:?}"),
    }
    conn
}

async fn get_ok(s: &TestServer, d: &Device, path: &str) -> Value {
    let resp = call(s, d, Method::GET, path, None).await;
    assert_eq!(resp.status(), StatusCode::OK, "GET {path}");
    json(resp).await
}

async fn join_link(s: &TestServer, d: &Device, group: &str) -> String {
    let path = format!("/v1/conversations/{group}/join-link");
    let resp = call(s, d, Method::POST, &path, None).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Builds the world. The sessions returned are the legitimate users'
/// (Alice's and Bob's in the room, not resumed: they get live `room`
/// events only).
async fn world(s: &TestServer) -> (World, Vec<Connection>) {
    let alice = register(s, "alice").await;
    let bob = register(s, "bob").await;
    let revoked = login_ok(s, "bob").await;
    let ivy = register(s, "ivy").await;
    let dora = register(s, "dora").await;
    let rita = register(s, "rita").await;
    let stranger = register(s, "stranger").await;
    let removed = register(s, "mallory").await;
    let blocked = register(s, "blocked").await;

    // The blocked user wrote to Alice once; then Alice and Bob block them.
    let mut cbl = ws(s, &blocked).await;
    sent_ok(&mut cbl, message_to(&alice.user_id)).await;
    cbl.close().await.expect("close");
    for d in [&alice, &bob] {
        let resp = set_block(s, d, &blocked.user_id, true).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    let resp = call(
        s,
        &alice,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": blocked.user_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK, "it exists already");
    let blocked_dm = json(resp).await["id"].as_str().expect("id").to_owned();
    let resp = add_contact(s, &alice, json!({"userId": bob.user_id})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);

    // The private group: Bob and Mallory invited and in, Bob made admin,
    // Ivy invited, a join link replaced, a timer.
    let g = new_group(
        s,
        &alice,
        "vault",
        json!({"title": "Vault", "members": [bob.user_id, removed.user_id]}),
    )
    .await;
    assert_eq!(
        (&g["visibility"], &g["addPolicy"]),
        (&json!("private"), &json!("invite"))
    );
    let group = g["id"].as_str().expect("id").to_owned();
    for d in [&bob, &removed] {
        let resp = call(
            s,
            d,
            Method::POST,
            &format!("/v1/invites/{group}/accept"),
            None,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = call(
        s,
        &alice,
        Method::PUT,
        &format!("/v1/conversations/{group}/members/{}/role", bob.user_id),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = add_member(s, &alice, &group, &ivy.user_id).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(json(resp).await["outcome"], "invited");
    let old_token = join_link(s, &alice, &group).await;
    let current = join_link(s, &alice, &group).await;
    assert_ne!(old_token, current);
    let resp = call(
        s,
        &alice,
        Method::PATCH,
        &format!("/v1/conversations/{group}"),
        Some(json!({"disappearSecs": 86400})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Messages: in the group (Mallory still in it), to Bob, a game
    // invitation to Bob.
    // Not resumed: it gets the answers to its sends, not stream events.
    let mut ca = ws(s, &alice).await;
    let in_group = message_in(&group);
    sent_ok(&mut ca, in_group.clone()).await;
    let to_bob = message_to(&bob.user_id);
    sent_ok(&mut ca, to_bob.clone()).await;
    let game = SendMessage {
        device_entries: None,
        message_type: MessageType::GameInvite,
        game_id: Some("chess.blitz-5".into()),
        ..message_to(&bob.user_id)
    };
    sent_ok(&mut ca, game.clone()).await;
    ca.close().await.expect("close");
    let resp = call(
        s,
        &alice,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": bob.user_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let direct = json(resp).await["id"].as_str().expect("id").to_owned();

    // Mallory is removed from the group.
    let resp = call(
        s,
        &alice,
        Method::DELETE,
        &format!("/v1/conversations/{group}/members/{}", removed.user_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    // A room that has ended: its link is dead.
    let (dead_link, dead, _) = new_room(s, &alice).await;
    let mut rd = ws(s, &alice).await;
    enter(&mut rd, dead_link).await;
    expect_room(&mut [&mut rd], &dead, RoomChange::Joined, &alice.user_id).await;
    assert!(leave(&mut rd, &dead).await.closed);
    rd.close().await.expect("close");

    // The room: Alice and Bob stay in it; Mallory enters, hears a message,
    // and leaves. Every live session of a participant hears who enters and
    // leaves; these are the only sessions Alice and Bob have meanwhile.
    let (room_link, room, _) = new_room(s, &alice).await;
    let mut ra = ws(s, &alice).await;
    let mut rb = ws(s, &bob).await;
    let mut rm = ws(s, &removed).await;
    enter(&mut ra, room_link).await;
    expect_room(&mut [&mut ra], &room, RoomChange::Joined, &alice.user_id).await;
    enter(&mut rb, room_link).await;
    expect_room(
        &mut [&mut ra, &mut rb],
        &room,
        RoomChange::Joined,
        &bob.user_id,
    )
    .await;
    enter(&mut rm, room_link).await;
    let everyone = &mut [&mut ra, &mut rb, &mut rm];
    expect_room(everyone, &room, RoomChange::Joined, &removed.user_id).await;
    let in_room = message_in(&room);
    sent_ok(&mut ra, in_room.clone()).await;
    leave(&mut rm, &room).await;
    let everyone = &mut [&mut ra, &mut rb, &mut rm];
    expect_room(everyone, &room, RoomChange::Left, &removed.user_id).await;
    rm.close().await.expect("close");

    // The message request: Rita writes to Dora, who takes contacts only.
    let resp = patch_me(s, &dora, json!({"messagePolicy": "contacts"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut cr = ws(s, &rita).await;
    let to_dora = message_to(&dora.user_id);
    sent_ok(&mut cr, to_dora.clone()).await;
    cr.close().await.expect("close");
    let inbox = get_ok(s, &dora, "/v1/message-requests").await;
    let request = inbox["requests"][0]["conversationId"]
        .as_str()
        .expect("a pending request")
        .to_owned();

    // Bob's second device is revoked.
    let resp = call(
        s,
        &bob,
        Method::DELETE,
        &format!("/v1/devices/{}", revoked.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let said = vec![
        (
            "private group",
            group.clone(),
            alice.user_id.clone(),
            in_group.message_id,
        ),
        (
            "direct conversation",
            direct.clone(),
            alice.user_id.clone(),
            to_bob.message_id,
        ),
        (
            "link room",
            room.clone(),
            alice.user_id.clone(),
            in_room.message_id,
        ),
        (
            "message request",
            request.clone(),
            dora.user_id.clone(),
            to_dora.message_id,
        ),
    ];
    let w = World {
        alice,
        bob,
        ivy,
        dora,
        rita,
        stranger,
        removed,
        blocked,
        revoked,
        group,
        direct,
        room,
        request,
        blocked_dm,
        said,
        game: game.message_id,
        room_link,
        dead_link,
        old_token,
    };
    (w, vec![ra, rb])
}

/// Sessions of every legitimate user, resumed at their stream's end.
async fn listeners(s: &TestServer, w: &World) -> Vec<Connection> {
    let mut out = Vec::new();
    for d in [&w.alice, &w.bob, &w.ivy, &w.dora, &w.rita] {
        out.push(ws_from_now(s, d).await);
    }
    out
}

/// Everything the attempts could have changed, as the legitimate users see
/// it: members and roles, title, timer and join token, invitations,
/// requests, the game, devices, lists, and message histories.
async fn snapshot(s: &TestServer, w: &World) -> Value {
    let mut views: Vec<(&Device, String)> = vec![
        (&w.alice, "/v1/conversations?limit=100".into()),
        (&w.alice, "/v1/contacts".into()),
        (&w.alice, "/v1/blocks".into()),
        (&w.alice, "/v1/invites".into()),
        (
            &w.alice,
            format!("/v1/conversations/{}/messages", w.blocked_dm),
        ),
        (&w.bob, "/v1/conversations?limit=100".into()),
        (&w.bob, "/v1/devices".into()),
        (&w.bob, "/v1/blocks".into()),
        (&w.bob, "/v1/contacts".into()),
        (&w.bob, format!("/v1/game-invites/{}", w.game)),
        (&w.ivy, "/v1/invites".into()),
        (&w.ivy, "/v1/conversations".into()),
        (&w.dora, "/v1/message-requests".into()),
        (&w.dora, format!("/v1/conversations/{}", w.request)),
        (&w.dora, format!("/v1/conversations/{}/messages", w.request)),
        (&w.rita, format!("/v1/conversations/{}", w.request)),
    ];
    for c in [&w.group, &w.direct, &w.room] {
        views.push((&w.alice, format!("/v1/conversations/{c}")));
        views.push((&w.alice, format!("/v1/conversations/{c}/members?limit=100")));
        views.push((
            &w.alice,
            format!("/v1/conversations/{c}/messages?limit=100"),
        ));
    }
    let mut out = serde_json::Map::new();
    for (d, path) in views {
        let key = format!("{} {path}", d.user_id);
        out.insert(key, get_ok(s, d, &path).await);
    }
    Value::Object(out)
}

/// What the world looks like before any attempt (so that "unchanged" below
/// means something).
async fn check_start(s: &TestServer, w: &World) {
    let g = get_ok(s, &w.alice, &format!("/v1/conversations/{}", w.group)).await;
    assert_eq!(g["title"], "Vault");
    assert_eq!(g["disappearSecs"], 86400);
    assert_eq!(g["memberCount"], 2);
    assert!(g["joinToken"].is_string() && g["joinToken"] != w.old_token.as_str());
    let members = get_ok(
        s,
        &w.alice,
        &format!("/v1/conversations/{}/members", w.group),
    )
    .await;
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["userId"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            (w.alice.user_id.as_str(), "owner"),
            (w.bob.user_id.as_str(), "admin")
        ]
    );
    let invites = get_ok(s, &w.ivy, "/v1/invites").await;
    assert_eq!(invites["invites"][0]["conversationId"], w.group.as_str());
    let game = get_ok(s, &w.bob, &format!("/v1/game-invites/{}", w.game)).await;
    assert_eq!(game["state"], "pending");
    let request = get_ok(s, &w.dora, &format!("/v1/conversations/{}", w.request)).await;
    assert_eq!(request["request"], "pending");
    let room = get_ok(
        s,
        &w.alice,
        &format!("/v1/conversations/{}/members", w.room),
    )
    .await;
    assert_eq!(room["members"].as_array().expect("members").len(), 2);
    for (what, c, _, m) in &w.said {
        let member = if *what == "message request" {
            &w.dora
        } else {
            &w.alice
        };
        let history = get_ok(s, member, &format!("/v1/conversations/{c}/messages")).await;
        let ids: Vec<&str> = history["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["messageId"].as_str().expect("messageId"))
            .collect();
        assert!(ids.contains(&m.to_string().as_str()), "{what}: {ids:?}");
    }
}

/// What an attempt must get.
enum Want {
    /// `404 not_found`, with exactly the body of the same request for ids
    /// that name nothing (`twin`).
    Hidden { twin: String },
    /// An ordinary answer about the caller's own things.
    Own(StatusCode),
}

struct Attempt {
    method: Method,
    path: String,
    body: Option<Value>,
    want: Want,
}

fn attempt(method: Method, path: String, body: Option<Value>, twin: String) -> Attempt {
    Attempt {
        method,
        path,
        body,
        want: Want::Hidden { twin },
    }
}

/// Every endpoint, aimed at the world's things by `me`.
fn attempts(w: &World, me: &Device) -> Vec<Attempt> {
    let mut out = Vec::new();
    let me_id = me.user_id.as_str();
    for (_, c, member, m) in &w.said {
        let nowhere = Uuid::now_v7().to_string();
        let no_message = Uuid::new_v4().to_string();
        let fill = |template: &str, c: &str, m: &str| {
            template
                .replace("{c}", c)
                .replace("{m}", m)
                .replace("{member}", member)
                .replace("{me}", me_id)
        };
        let templates: Vec<(Method, &str, Option<Value>)> = vec![
            (Method::GET, "/v1/conversations/{c}", None),
            (
                Method::PATCH,
                "/v1/conversations/{c}",
                Some(json!({"title": "pwned"})),
            ),
            (
                Method::PATCH,
                "/v1/conversations/{c}",
                Some(json!({"disappearSecs": 1})),
            ),
            (
                Method::PATCH,
                "/v1/conversations/{c}",
                Some(json!({"disappearSecs": null})),
            ),
            (Method::GET, "/v1/conversations/{c}/members", None),
            (
                Method::POST,
                "/v1/conversations/{c}/members",
                Some(json!({"userId": me_id})),
            ),
            (
                Method::DELETE,
                "/v1/conversations/{c}/members/{member}",
                None,
            ),
            (Method::DELETE, "/v1/conversations/{c}/members/{me}", None),
            (
                Method::PUT,
                "/v1/conversations/{c}/members/{me}/role",
                Some(json!({"role": "admin"})),
            ),
            (
                Method::PUT,
                "/v1/conversations/{c}/members/{member}/role",
                Some(json!({"role": "member"})),
            ),
            (
                Method::POST,
                "/v1/conversations/{c}/owner",
                Some(json!({"userId": me_id})),
            ),
            (Method::POST, "/v1/conversations/{c}/join", None),
            (Method::POST, "/v1/conversations/{c}/join-link", None),
            (Method::DELETE, "/v1/conversations/{c}/join-link", None),
            (Method::POST, "/v1/invites/{c}/accept", None),
            (Method::POST, "/v1/invites/{c}/decline", None),
            (Method::GET, "/v1/conversations/{c}/messages", None),
            (Method::DELETE, "/v1/conversations/{c}/messages/{m}", None),
            (
                Method::GET,
                "/v1/conversations/{c}/messages/{m}/receipts",
                None,
            ),
            (Method::POST, "/v1/message-requests/{c}/accept", None),
            (Method::POST, "/v1/message-requests/{c}/decline", None),
        ];
        for (method, template, body) in templates {
            out.push(attempt(
                method,
                fill(template, c, &m.to_string()),
                body,
                fill(template, &nowhere, &no_message),
            ));
        }
    }
    let no_game = Uuid::new_v4();
    for verb in ["", "/accept", "/decline", "/cancel"] {
        let method = if verb.is_empty() {
            Method::GET
        } else {
            Method::POST
        };
        out.push(attempt(
            method,
            format!("/v1/game-invites/{}{verb}", w.game),
            None,
            format!("/v1/game-invites/{no_game}{verb}"),
        ));
    }
    let no_token = Uuid::new_v4();
    for token in [
        w.old_token.clone(),
        w.room_link.to_string(),
        w.dead_link.to_string(),
    ] {
        out.push(attempt(
            Method::POST,
            format!("/v1/join/{token}"),
            None,
            format!("/v1/join/{no_token}"),
        ));
    }
    let no_device = Uuid::now_v7();
    out.push(attempt(
        Method::PATCH,
        format!("/v1/devices/{}", w.bob.device_id),
        Some(json!({"name": "pwned"})),
        format!("/v1/devices/{no_device}"),
    ));
    out.push(attempt(
        Method::DELETE,
        format!("/v1/devices/{}", w.bob.device_id),
        None,
        format!("/v1/devices/{no_device}"),
    ));
    // Alice has Bob as a contact; nobody else's list can lose him.
    out.push(attempt(
        Method::DELETE,
        format!("/v1/contacts/{}", w.bob.user_id),
        None,
        format!("/v1/contacts/{}", Uuid::now_v7()),
    ));
    // Blocks name another user but only ever touch the caller's own list:
    // blocking Alice and unblocking her again, and unblocking the user Alice
    // and Bob block, leave their lists as they were.
    for (method, user) in [
        (Method::PUT, &w.alice.user_id),
        (Method::DELETE, &w.alice.user_id),
        (Method::DELETE, &w.blocked.user_id),
    ] {
        out.push(Attempt {
            method,
            path: format!("/v1/blocks/{user}"),
            body: None,
            want: Want::Own(StatusCode::NO_CONTENT),
        });
    }
    // Anyone signed in makes a room of their own (checked below: not ours).
    out.push(Attempt {
        method: Method::POST,
        path: "/v1/rooms".into(),
        body: None,
        want: Want::Own(StatusCode::CREATED),
    });
    out
}

#[tokio::test]
async fn every_endpoint_refuses_outsiders_removed_members_blocked_users_and_revoked_devices() {
    let s = server().await;
    let (w, mut in_room) = world(&s).await;
    check_start(&s, &w).await;
    let before = snapshot(&s, &w).await;
    let mut listening = listeners(&s, &w).await;

    let mut cases = 0;
    for (who, actor) in [
        ("non-member", &w.stranger),
        ("removed member", &w.removed),
        ("blocked user", &w.blocked),
    ] {
        for a in attempts(&w, actor) {
            let what = format!("{who}: {} {}", a.method, a.path);
            let resp = call(&s, actor, a.method.clone(), &a.path, a.body.clone()).await;
            match a.want {
                Want::Hidden { twin } => {
                    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{what}");
                    let hidden = not_found_body(resp).await;
                    let absent =
                        not_found_body(call(&s, actor, a.method.clone(), &twin, a.body).await)
                            .await;
                    assert_eq!(hidden, absent, "{what}: the same 404 as for {twin}");
                }
                Want::Own(status) => {
                    assert_eq!(resp.status(), status, "{what}");
                    if a.path == "/v1/rooms" {
                        let room = json(resp).await;
                        assert_ne!(room["link"], w.room_link.to_string());
                        assert_ne!(room["link"], w.dead_link.to_string());
                        assert_ne!(room["conversationId"], w.room.as_str());
                    }
                }
            }
            cases += 1;
        }
        // Their own block list is back to empty.
        assert!(list_ids(&s, actor, "blocks").await.is_empty(), "{who}");
    }

    // The revoked device: 401 on every call, whatever it names (Bob's own
    // membership, device and lists included).
    for a in attempts(&w, &w.revoked) {
        let resp = call(&s, &w.revoked, a.method.clone(), &a.path, a.body).await;
        let what = format!("revoked device: {} {}", a.method, a.path);
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            resp.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer"),
            "{what}"
        );
        expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
        cases += 1;
    }
    println!("authorization matrix: {cases} (actor, endpoint) cases over REST");
    assert_eq!(cases, 4 * (4 * 21 + 4 + 3 + 2 + 1 + 3 + 1));

    // Nobody heard anything, and nothing changed.
    for conn in listening.iter_mut().chain(in_room.iter_mut()) {
        quiet(conn, 300).await;
    }
    assert_eq!(snapshot(&s, &w).await, before);
}

#[tokio::test]
async fn every_frame_refuses_outsiders_removed_members_and_blocked_users_and_revoked_devices_cannot_connect()
 {
    let s = server().await;
    let (w, mut in_room) = world(&s).await;
    check_start(&s, &w).await;
    let before = snapshot(&s, &w).await;
    let mut listening = listeners(&s, &w).await;

    let mut cases = 0;
    for (who, actor) in [
        ("non-member", &w.stranger),
        ("removed member", &w.removed),
        ("blocked user", &w.blocked),
    ] {
        // The `unread` frame a session opens with names none of the others'
        // conversations.
        let (probe, unread) = ws_with_unread(&s, actor).await;
        probe.close().await.expect("close");
        for (what, conversation, _, _) in &w.said {
            assert!(
                unread
                    .conversations
                    .iter()
                    .all(|u| u.conversation_id.to_string() != *conversation),
                "{who}: the unread frame names the {what}"
            );
        }
        cases += 1;
        let (mut c, ready) = ws_ready(&s, actor).await;
        // `resume` from the future is the stream's end: nothing replayed,
        // nobody else's events.
        c.resume(Some(u64::MAX)).await.expect("resume");
        match next(&mut c).await {
            ServerFrame::Synced { payload, .. } => {
                assert_eq!(payload.last_seq, ready.last_seq, "{who}")
            }
            other => panic!("{who}: expected synced at once, got {other:?}"),
        }
        cases += 1;
        // A note to oneself, so that the replies below go to an existing
        // conversation of the actor's own.
        sent_ok(&mut c, message_to(&actor.user_id)).await;

        for (what, conversation, _, message) in &w.said {
            // A message to a conversation of others: the answer for none.
            let hidden = refused(&mut c, ClientFrame::Message(message_in(conversation)), "m").await;
            let absent = refused(
                &mut c,
                ClientFrame::Message(message_in(&Uuid::now_v7().to_string())),
                "m",
            )
            .await;
            assert_eq!(hidden.1, FrameErrorCode::NotFound, "{who}: {what}");
            assert_eq!(hidden, absent, "{who}: message to the {what}");
            // A game invitation into it: the same.
            let invite = SendMessage {
                device_entries: None,
                conversation_id: Some(conversation.parse().expect("uuid")),
                recipient_id: None,
                message_type: MessageType::GameInvite,
                game_id: Some("chess.blitz-5".into()),
                ..message_to(&actor.user_id)
            };
            let hidden = refused(&mut c, ClientFrame::Message(invite), "g").await;
            assert_eq!(hidden.1, FrameErrorCode::NotFound, "{who}: {what}");
            assert_eq!(hidden.2, absent.2, "{who}: game invitation in the {what}");
            // A reply to one of its messages, from the actor's own note:
            // the answer for a message that does not exist.
            let reply = |to: Uuid| SendMessage {
                device_entries: None,
                reply_to: Some(to),
                ..message_to(&actor.user_id)
            };
            let hidden = refused(&mut c, ClientFrame::Message(reply(*message)), "r").await;
            let absent = refused(&mut c, ClientFrame::Message(reply(Uuid::new_v4())), "r").await;
            assert_eq!(hidden.1, FrameErrorCode::NotFound, "{who}: {what}");
            assert_eq!(hidden, absent, "{who}: replyTo in the {what}");
            // Typing in it: the answer for none, and nobody hears it.
            let typing = |c: &str| {
                ClientFrame::Typing(Typing {
                    conversation_id: c.parse().expect("uuid"),
                    state: TypingState::Started,
                })
            };
            let hidden = refused(&mut c, typing(conversation), "t").await;
            let absent = refused(&mut c, typing(&Uuid::now_v7().to_string()), "t").await;
            assert_eq!(hidden.1, FrameErrorCode::NotFound, "{who}: {what}");
            assert_eq!(hidden, absent, "{who}: typing in the {what}");
            cases += 4;
        }

        // The link of a room that has ended: the answer for no room.
        let hidden = refused(
            &mut c,
            ClientFrame::EnterRoom(EnterRoom { link: w.dead_link }),
            "e",
        )
        .await;
        let absent = refused(
            &mut c,
            ClientFrame::EnterRoom(EnterRoom {
                link: Uuid::new_v4(),
            }),
            "e",
        )
        .await;
        assert_eq!(hidden.1, FrameErrorCode::NotFound, "{who}");
        assert_eq!(hidden, absent, "{who}: enter_room with a dead link");
        // Leaving the live room one is not in: the answer for no room, and
        // nobody is taken out.
        let hidden = refused(
            &mut c,
            ClientFrame::LeaveRoom(LeaveRoom {
                conversation_id: w.room.parse().expect("uuid"),
            }),
            "l",
        )
        .await;
        let absent = refused(
            &mut c,
            ClientFrame::LeaveRoom(LeaveRoom {
                conversation_id: Uuid::now_v7(),
            }),
            "l",
        )
        .await;
        assert_eq!(hidden.1, FrameErrorCode::NotFound, "{who}");
        assert_eq!(hidden, absent, "{who}: leave_room of a room one is not in");
        // Another device's token handed over with `auth` (Bob's revoked
        // device): refused, and the session stays the actor's.
        let (id, code, _) = refused(
            &mut c,
            ClientFrame::Auth(Reauth {
                access_token: w.revoked.access.clone(),
            }),
            "a",
        )
        .await;
        assert_eq!(
            (id.as_str(), code),
            ("a", FrameErrorCode::Unauthorized),
            "{who}"
        );
        cases += 3;

        // `ack` beyond the stream's end: no answer, and it counts as the
        // end, not beyond it.
        c.ack(u64::MAX).await.expect("ack");
        c.ping().await.expect("ping");
        assert!(
            matches!(next(&mut c).await, ServerFrame::Pong { .. }),
            "{who}: no answer to ack"
        );
        let end = loop {
            let (probe, ready) = ws_ready(&s, actor).await;
            probe.close().await.expect("close");
            assert!(ready.acked_seq <= ready.last_seq, "{who}: {ready:?}");
            if ready.acked_seq == ready.last_seq {
                break ready.last_seq;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        // So what comes next is still delivered and replayed.
        let mut other = ws_from_now(&s, actor).await;
        let note = message_to(&actor.user_id);
        sent_ok(&mut other, note.clone()).await;
        match next(&mut c).await {
            ServerFrame::Message { seq, payload } => {
                assert_eq!(
                    (seq, payload.message_id),
                    (end + 1, note.message_id),
                    "{who}"
                )
            }
            f => panic!("{who}: expected the note, got {f:?}"),
        }
        let (mut later, ready) = ws_ready(&s, actor).await;
        assert_eq!((ready.acked_seq, ready.last_seq), (end, end + 1), "{who}");
        later.resume(None).await.expect("resume");
        assert!(
            matches!(next(&mut later).await, ServerFrame::Message { payload, .. } if payload.message_id == note.message_id),
            "{who}: the note is replayed"
        );
        cases += 1;

        // The blocked user writes to Alice, who blocks them: an ordinary
        // `sent`, kept for the sender, delivered to nobody (checked below).
        if actor.user_id == w.blocked.user_id {
            let m = message_to(&w.alice.user_id);
            sent_ok(&mut c, m.clone()).await;
            let own = get_ok(
                &s,
                actor,
                &format!("/v1/conversations/{}/messages", w.blocked_dm),
            )
            .await;
            assert_eq!(own["messages"][0]["messageId"], m.message_id.to_string());
            cases += 1;
        }
        for conn in [c, other, later] {
            conn.close().await.expect("close");
        }
    }

    // The revoked device cannot open a session either way: 401 before the
    // upgrade.
    let client = Client::new(&s.url(""));
    for transport in [
        TokenTransport::Subprotocol,
        TokenTransport::AuthorizationHeader,
    ] {
        let opts = ConnectOptions::default().transport(transport);
        match client.connect_with(&w.revoked.access, opts).await {
            Err(ClientError::Handshake { status, body }) => {
                assert_eq!(status, 401);
                assert_eq!(
                    serde_json::from_str::<Value>(&body).expect("json")["error"]["code"],
                    "unauthorized"
                );
            }
            Ok(_) => panic!("a revoked device connected"),
            Err(e) => panic!("unexpected {e}"),
        }
        cases += 1;
    }
    println!("authorization matrix: {cases} (actor, frame) cases over WebSocket");
    assert_eq!(cases, 3 * (1 + 1 + 4 * 4 + 3 + 1) + 1 + 2);

    for conn in listening.iter_mut().chain(in_room.iter_mut()) {
        quiet(conn, 300).await;
    }
    assert_eq!(snapshot(&s, &w).await, before);
}

/// The ids of a history page.
fn message_ids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["messageId"].as_str().expect("messageId").to_owned())
        .collect()
}

#[tokio::test]
async fn blocks_keep_messages_apart_not_people_out_of_groups() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let blocked = register(&s, "blocked").await;
    let resp = set_block(&s, &alice, &blocked.user_id, true).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let group = group_with(&s, &alice, "commons", &[&bob]).await;

    // A block keeps nobody out of a group they may join: the link works.
    let token = join_link(&s, &alice, &group).await;
    let resp = call(
        &s,
        &blocked,
        Method::POST,
        &format!("/v1/join/{token}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // Inside, they are a member like any other: they see the group, its
    // members (the blocker included) and its history, and a plain member's
    // limits are a 403, not a 404.
    let g = get_ok(&s, &blocked, &format!("/v1/conversations/{group}")).await;
    assert_eq!(g["role"], "member");
    let members = member_ids(&s, &blocked, &group).await;
    assert!(members.contains(&alice.user_id), "{members:?}");
    let resp = call(
        &s,
        &blocked,
        Method::PATCH,
        &format!("/v1/conversations/{group}"),
        Some(json!({"title": "ours"})),
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "forbidden").await;

    let mut ca = ws_from_now(&s, &alice).await;
    let mut cb = ws_from_now(&s, &bob).await;
    let mut cbl = ws_from_now(&s, &blocked).await;
    // The blocker's messages still reach the blocked member.
    let from_alice = message_in(&group);
    sent_ok(&mut ca, from_alice.clone()).await;
    for conn in [&mut cb, &mut cbl] {
        assert!(
            matches!(next(conn).await, ServerFrame::Message { payload, .. } if payload.message_id == from_alice.message_id)
        );
    }
    // The blocked member's reach everyone but the blocker.
    let from_blocked = message_in(&group);
    sent_ok(&mut cbl, from_blocked.clone()).await;
    assert!(
        matches!(next(&mut cb).await, ServerFrame::Message { payload, .. } if payload.message_id == from_blocked.message_id)
    );
    quiet(&mut ca, 300).await;

    // A first direct message to the blocker: an ordinary `sent`, and
    // nothing reaches them, live or on replay.
    let dm = message_to(&alice.user_id);
    sent_ok(&mut cbl, dm.clone()).await;
    quiet(&mut ca, 300).await;
    let resp = call(
        &s,
        &blocked,
        Method::POST,
        "/v1/conversations",
        Some(json!({"kind": "direct", "userId": alice.user_id})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let direct = json(resp).await["id"].as_str().expect("id").to_owned();
    let theirs = get_ok(
        &s,
        &blocked,
        &format!("/v1/conversations/{direct}/messages"),
    )
    .await;
    assert_eq!(message_ids(&theirs), [dm.message_id.to_string()]);
    let hers = get_ok(&s, &alice, &format!("/v1/conversations/{direct}/messages")).await;
    assert_eq!(message_ids(&hers), Vec::<String>::new());
    // The blocker may still write to the user she blocks (her choice).
    let back = message_to(&blocked.user_id);
    sent_ok(&mut ca, back.clone()).await;
    loop {
        match next(&mut cbl).await {
            // The blocked user's devices were told they created the
            // direct conversation.
            ServerFrame::Conversation { payload, .. }
                if payload.change == passerelle_client::ws::ConversationChange::Created => {}
            ServerFrame::Message { payload, .. } => {
                assert_eq!(payload.message_id, back.message_id);
                break;
            }
            other => panic!("expected Alice's message, got {other:?}"),
        }
    }
    let (_replay, replayed) = ws_resumed(&s, &alice, Some(0)).await;
    for frame in &replayed {
        if let ServerFrame::Message { payload, .. } = frame {
            assert!(
                payload.message_id != dm.message_id
                    && payload.message_id != from_blocked.message_id,
                "replayed to the blocker: {payload:?}"
            );
        }
    }

    // History: Bob reads the blocked member's group message, the blocker
    // must not (api.md, "Message history": a message whose sender you
    // block is not in it; security-model.md: not live, not in history).
    let bobs = get_ok(&s, &bob, &format!("/v1/conversations/{group}/messages")).await;
    assert!(message_ids(&bobs).contains(&from_blocked.message_id.to_string()));
    let alices = get_ok(&s, &alice, &format!("/v1/conversations/{group}/messages")).await;
    // Group (and link room) history leaves out what was sent while the
    // reader blocked its sender, as the live path and replay do.
    assert!(
        !message_ids(&alices).contains(&from_blocked.message_id.to_string()),
        "the blocker reads the blocked member's group message in history: {alices}"
    );
    assert!(message_ids(&alices).contains(&from_alice.message_id.to_string()));
}

#[tokio::test]
async fn callers_who_know_the_thing_get_403_and_everyone_else_404() {
    let s = server().await;
    let alice = register(&s, "alice").await;
    let bob = register(&s, "bob").await;
    let ivy = register(&s, "ivy").await;
    let olga = register(&s, "olga").await;
    // A private group: Bob a plain member, Ivy invited (then the add policy
    // becomes `direct`, so that adding is a manager's right); a public one.
    let g = new_group(
        &s,
        &alice,
        "atelier",
        json!({"members": [bob.user_id, ivy.user_id]}),
    )
    .await;
    let private = g["id"].as_str().expect("id").to_owned();
    let resp = call(
        &s,
        &bob,
        Method::POST,
        &format!("/v1/invites/{private}/accept"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(
        &s,
        &alice,
        Method::PATCH,
        &format!("/v1/conversations/{private}"),
        Some(json!({"addPolicy": "direct"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let g = new_group(&s, &alice, "agora", json!({"visibility": "public"})).await;
    let public = g["id"].as_str().expect("id").to_owned();
    let mut ca = ws(&s, &alice).await;
    let in_private = message_in(&private);
    sent_ok(&mut ca, in_private.clone()).await;
    let in_public = message_in(&public);
    sent_ok(&mut ca, in_public.clone()).await;
    ca.close().await.expect("close");
    let before = (
        get_ok(&s, &alice, &format!("/v1/conversations/{private}")).await,
        get_ok(&s, &alice, &format!("/v1/conversations/{public}")).await,
        get_ok(&s, &ivy, "/v1/invites").await,
    );
    let mut listening = Vec::new();
    for d in [&alice, &bob, &ivy] {
        listening.push(ws_from_now(&s, d).await);
    }

    const OK: Option<(StatusCode, &str)> = Some((StatusCode::OK, ""));
    const FORBIDDEN: Option<(StatusCode, &str)> = Some((StatusCode::FORBIDDEN, "forbidden"));
    const HIDDEN: Option<(StatusCode, &str)> = Some((StatusCode::NOT_FOUND, "not_found"));
    // Not tried: allowed, and it would change the group (a member leaving,
    // anyone joining a public group).
    const ALLOWED: Option<(StatusCode, &str)> = None;
    let endpoints = |c: &str, m: Uuid, me: &str| -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/v1/conversations/{c}"), None),
            (
                Method::PATCH,
                format!("/v1/conversations/{c}"),
                Some(json!({"title": "ours"})),
            ),
            (
                Method::PATCH,
                format!("/v1/conversations/{c}"),
                Some(json!({"disappearSecs": 5})),
            ),
            (Method::GET, format!("/v1/conversations/{c}/members"), None),
            (
                Method::POST,
                format!("/v1/conversations/{c}/members"),
                Some(json!({"userId": olga.user_id})),
            ),
            (
                Method::DELETE,
                format!("/v1/conversations/{c}/members/{}", alice.user_id),
                None,
            ),
            (
                Method::DELETE,
                format!("/v1/conversations/{c}/members/{me}"),
                None,
            ),
            (
                Method::PUT,
                format!("/v1/conversations/{c}/members/{me}/role"),
                Some(json!({"role": "admin"})),
            ),
            (
                Method::POST,
                format!("/v1/conversations/{c}/owner"),
                Some(json!({"userId": me})),
            ),
            (Method::POST, format!("/v1/conversations/{c}/join"), None),
            (
                Method::POST,
                format!("/v1/conversations/{c}/join-link"),
                None,
            ),
            (
                Method::DELETE,
                format!("/v1/conversations/{c}/join-link"),
                None,
            ),
            (Method::GET, format!("/v1/conversations/{c}/messages"), None),
            (
                Method::DELETE,
                format!("/v1/conversations/{c}/messages/{m}"),
                None,
            ),
            (
                Method::GET,
                format!("/v1/conversations/{c}/messages/{m}/receipts"),
                None,
            ),
        ]
    };
    // Per caller, in the order of `endpoints`: read, title, timer, list
    // members, add, remove the owner, leave, take a role, take ownership,
    // join, create and revoke the join link, read history, retract the
    // owner's message, ask for its receipts (the sender's alone: everyone
    // else, a member included, gets the 404 of nothing).
    let rows = [
        (
            &ivy,
            "invitee of a private group",
            &private,
            in_private.message_id,
            [
                OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, FORBIDDEN,
                FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, HIDDEN, HIDDEN,
            ],
        ),
        (
            &olga,
            "outsider of a public group",
            &public,
            in_public.message_id,
            [
                OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, FORBIDDEN,
                FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN, HIDDEN, HIDDEN, HIDDEN,
            ],
        ),
        (
            &bob,
            "plain member",
            &private,
            in_private.message_id,
            [
                OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, ALLOWED, FORBIDDEN, FORBIDDEN,
                OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, HIDDEN,
            ],
        ),
    ];
    let mut cases = 0;
    for (who, standing, c, m, wants) in rows {
        let nowhere = Uuid::now_v7().to_string();
        let tried = endpoints(c, m, &who.user_id);
        let twins = endpoints(&nowhere, Uuid::new_v4(), &who.user_id);
        assert_eq!(tried.len(), wants.len());
        for (((method, path, body), (_, twin, _)), want) in tried.into_iter().zip(twins).zip(wants)
        {
            let Some((status, code)) = want else {
                continue;
            };
            let what = format!("{standing}: {method} {path}");
            let resp = call(&s, who, method.clone(), &path, body.clone()).await;
            assert_eq!(resp.status(), status, "{what}");
            if status == StatusCode::NOT_FOUND {
                // What a caller who knows the group cannot reach (its
                // history, a membership they do not have) is the plain 404.
                let hidden = not_found_body(resp).await;
                let absent = not_found_body(call(&s, who, method, &twin, body).await).await;
                assert_eq!(hidden, absent, "{what}");
            } else if status.is_client_error() {
                expect_error(resp, status, code).await;
            }
            cases += 1;
        }
    }
    println!("403-or-404 table: {cases} (caller, endpoint) cases");

    for conn in listening.iter_mut() {
        quiet(conn, 300).await;
    }
    let after = (
        get_ok(&s, &alice, &format!("/v1/conversations/{private}")).await,
        get_ok(&s, &alice, &format!("/v1/conversations/{public}")).await,
        get_ok(&s, &ivy, "/v1/invites").await,
    );
    assert_eq!(after, before);
    assert_eq!(before.2["invites"][0]["conversationId"], private.as_str());
}
