//! The device directory and per-device messages (issue 7), over HTTP and
//! WebSocket: registration numbers, `GET /v1/users/{userId}/devices` and who
//! may read it, `devices` events on every change to everyone concerned and
//! to no one blocked, and per-device sends refused with the exact
//! missing / extra / stale lists, or delivered one entry per device.

use passerelle_client::Connection;
use passerelle_client::ws::{
    DeviceChange, DeviceEntry, DeviceMismatch, DirectoryDevice, FrameErrorCode, SendMessage,
    ServerFrame,
};
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::blobs::{download_grant, upload_grant};
use crate::common::*;

/// Registers `username` with an optional registration number; the device
/// and the number the server answered with.
pub async fn register_with(s: &TestServer, username: &str, reg: Option<u32>) -> (Device, u32) {
    let mut body = json!({"username": username, "password": PASSWORD, "deviceName": "phone"});
    if let Some(r) = reg {
        body["registrationId"] = json!(r);
    }
    let resp = s
        .http()
        .post(s.url("/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), StatusCode::CREATED, "register {username}");
    device_and_number(json(resp).await)
}

/// Logs `username` in on a new device, with an optional number.
pub async fn login_with(s: &TestServer, username: &str, reg: Option<u32>) -> (Device, u32) {
    let mut body = json!({"username": username, "password": PASSWORD, "deviceName": "tablet"});
    if let Some(r) = reg {
        body["registrationId"] = json!(r);
    }
    let resp = s
        .http()
        .post(s.url("/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK, "login {username}");
    device_and_number(json(resp).await)
}

fn device_and_number(body: Value) -> (Device, u32) {
    let reg = body["registrationId"].as_u64().expect("registrationId") as u32;
    let d = Device {
        user_id: body["userId"].as_str().expect("userId").to_owned(),
        device_id: body["deviceId"].as_str().expect("deviceId").to_owned(),
        access: body["accessToken"].as_str().expect("token").to_owned(),
        refresh: body["refreshToken"].as_str().expect("refresh").to_owned(),
    };
    (d, reg)
}

/// `GET /v1/users/{user}/devices` as `viewer`.
pub async fn directory(s: &TestServer, viewer: &Device, user: &str) -> reqwest::Response {
    call(
        s,
        viewer,
        Method::GET,
        &format!("/v1/users/{user}/devices"),
        None,
    )
    .await
}

/// The directory `viewer` reads of `user`: (device id, number) in order.
pub async fn numbers(s: &TestServer, viewer: &Device, user: &str) -> Vec<(String, u32)> {
    let resp = directory(s, viewer, user).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["userId"], user);
    body["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| {
            (
                d["id"].as_str().expect("id").to_owned(),
                d["registrationId"].as_u64().expect("number") as u32,
            )
        })
        .collect()
}

/// A fresh message blob granted to `d` (never uploaded: the gateway only
/// checks the grant).
async fn blob(s: &TestServer, d: &Device) -> String {
    upload_grant(s, d, "message", 64).await["blobId"]
        .as_str()
        .expect("blobId")
        .to_owned()
}

/// An entry for `d` at `reg`, with a new blob of `sender`'s.
async fn entry(s: &TestServer, sender: &Device, d: &Device, reg: u32) -> DeviceEntry {
    DeviceEntry {
        device_id: d.device_id.parse().expect("uuid"),
        registration_id: reg,
        blob_id: blob(s, sender).await,
    }
}

fn per_device(to: &Device, entries: &[DeviceEntry]) -> SendMessage {
    SendMessage {
        device_entries: Some(entries.to_vec()),
        ..message_to(&to.user_id)
    }
}

/// Skips frames until one `pick` accepts (each within 10 s).
async fn until<T>(conn: &mut Connection, mut pick: impl FnMut(&ServerFrame) -> Option<T>) -> T {
    loop {
        let frame = next(conn).await;
        if let Some(t) = pick(&frame) {
            return t;
        }
    }
}

/// The answer to the `message` just sent: `Ok(())` for `sent`, else the
/// error's code and mismatch.
async fn answer(conn: &mut Connection) -> Result<(), (FrameErrorCode, Option<DeviceMismatch>)> {
    until(conn, |f| match f {
        ServerFrame::Sent { .. } => Some(Ok(())),
        ServerFrame::Error { payload, .. } => Some(Err((payload.code, payload.mismatch.clone()))),
        _ => None,
    })
    .await
}

async fn send(
    conn: &mut Connection,
    m: SendMessage,
) -> Result<(), (FrameErrorCode, Option<DeviceMismatch>)> {
    conn.send_message(m).await.expect("send");
    answer(conn).await
}

/// The `devices` event about `who`'s device `device`.
async fn device_event(
    conn: &mut Connection,
    who: &Device,
    device: &Device,
) -> (DeviceChange, Option<u32>) {
    until(conn, |f| match f {
        ServerFrame::Devices { payload, .. }
            if payload.user_id.to_string() == who.user_id
                && payload.device_id.to_string() == device.device_id =>
        {
            Some((payload.change, payload.registration_id))
        }
        _ => None,
    })
    .await
}

/// The `message` event `id` and the entry it carries.
async fn delivered(conn: &mut Connection, id: Uuid) -> Option<DeviceEntry> {
    until(conn, |f| match f {
        ServerFrame::Message { payload, .. } if payload.message_id == id => {
            Some(payload.device_entry.clone())
        }
        _ => None,
    })
    .await
}

fn at(d: &Device, reg: u32) -> DirectoryDevice {
    DirectoryDevice {
        user_id: d.user_id.parse().expect("uuid"),
        device_id: d.device_id.parse().expect("uuid"),
        registration_id: reg,
    }
}

fn id_of(d: &Device) -> Uuid {
    d.device_id.parse().expect("uuid")
}

/// The "done when": three devices on one account and two on
/// another; adding and revoking devices is seen by the peer at once,
/// mismatched sends are refused with the exact lists, matched sends
/// deliver one entry per device.
#[tokio::test]
async fn three_and_two_devices_see_changes_at_once_and_get_one_entry_each() {
    let s = server().await;
    let (alice1, a1_reg) = register_with(&s, "dd_alice", Some(1111)).await;
    assert_eq!(a1_reg, 1111);
    let (alice2, a2_reg) = login_with(&s, "dd_alice", None).await;
    assert!((1..=16380).contains(&a2_reg), "picked: {a2_reg}");
    let (bob1, b1_reg) = register_with(&s, "dd_bob", None).await;
    let (bob2, b2_reg) = login_with(&s, "dd_bob", Some(2222)).await;

    // A first, ordinary message gives them a conversation.
    let (mut a1, _) = ws_resumed(&s, &alice1, None).await;
    assert_eq!(send(&mut a1, message_to(&bob1.user_id)).await, Ok(()));
    let (mut a2, _) = ws_resumed(&s, &alice2, None).await;
    let (mut b1, _) = ws_resumed(&s, &bob1, None).await;
    let (mut b2, _) = ws_resumed(&s, &bob2, None).await;

    // The directory, as Bob reads Alice's: both devices, their numbers.
    assert_eq!(
        numbers(&s, &bob1, &alice1.user_id).await,
        vec![
            (alice1.device_id.clone(), 1111),
            (alice2.device_id.clone(), a2_reg)
        ]
    );

    // Alice's third device: Bob's devices and her others hear it at once.
    let (alice3, a3_reg) = login_with(&s, "dd_alice", Some(3333)).await;
    for conn in [&mut b1, &mut b2, &mut a1, &mut a2] {
        assert_eq!(
            device_event(conn, &alice1, &alice3).await,
            (DeviceChange::Added, Some(3333))
        );
    }
    assert_eq!(numbers(&s, &bob2, &alice1.user_id).await.len(), 3);

    // The next send without it is refused, listing it; nothing is stored.
    let mut entries = vec![
        entry(&s, &alice1, &bob1, b1_reg).await,
        entry(&s, &alice1, &bob2, b2_reg).await,
        entry(&s, &alice1, &alice2, a2_reg).await,
    ];
    let m1 = per_device(&bob1, &entries);
    let refused = send(&mut a1, m1.clone()).await;
    assert_eq!(
        refused,
        Err((
            FrameErrorCode::DeviceMismatch,
            Some(DeviceMismatch {
                missing: vec![at(&alice3, a3_reg)],
                extra: Vec::new(),
                stale: Vec::new(),
            })
        ))
    );
    // With it (the same message id): every device gets exactly its entry.
    entries.push(entry(&s, &alice1, &alice3, a3_reg).await);
    let m1 = SendMessage {
        device_entries: Some(entries.clone()),
        ..m1
    };
    assert_eq!(send(&mut a1, m1.clone()).await, Ok(()));
    assert_eq!(
        delivered(&mut b1, m1.message_id).await,
        Some(entries[0].clone())
    );
    assert_eq!(
        delivered(&mut b2, m1.message_id).await,
        Some(entries[1].clone())
    );
    assert_eq!(
        delivered(&mut a2, m1.message_id).await,
        Some(entries[2].clone())
    );
    let (_a3, replayed) = ws_resumed(&s, &alice3, None).await;
    let copies: Vec<Option<DeviceEntry>> = replayed
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Message { payload, .. } if payload.message_id == m1.message_id => {
                Some(payload.device_entry.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        copies,
        vec![Some(entries[3].clone())],
        "one copy, its entry"
    );
    // Only the addressed device may download its entry's blob (and its
    // uploader, whose blob it is): not Bob's other device.
    let bob1_blob = &entries[0].blob_id;
    for allowed in [&bob1, &alice2] {
        assert_eq!(
            download_grant(&s, Some(allowed), bob1_blob).await.status(),
            StatusCode::OK
        );
    }
    not_found_body(download_grant(&s, Some(&bob2), bob1_blob).await).await;
    not_found_body(download_grant(&s, Some(&bob1), &entries[1].blob_id).await).await;

    // Bob revokes his second device: Alice's devices hear it at once.
    let resp = call(
        &s,
        &bob1,
        Method::DELETE,
        &format!("/v1/devices/{}", bob2.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for conn in [&mut a1, &mut a2, &mut b1] {
        assert_eq!(
            device_event(conn, &bob1, &bob2).await,
            (DeviceChange::Revoked, None)
        );
    }
    assert_eq!(closed_with(&mut b2).await, 4003);
    // A send still addressed to it: extra; without it, delivered.
    let entries = vec![
        entry(&s, &alice1, &bob1, b1_reg).await,
        entry(&s, &alice1, &bob2, b2_reg).await,
        entry(&s, &alice1, &alice2, a2_reg).await,
        entry(&s, &alice1, &alice3, a3_reg).await,
    ];
    let m2 = per_device(&bob1, &entries);
    assert_eq!(
        send(&mut a1, m2.clone()).await,
        Err((
            FrameErrorCode::DeviceMismatch,
            Some(DeviceMismatch {
                missing: Vec::new(),
                extra: vec![id_of(&bob2)],
                stale: Vec::new(),
            })
        ))
    );
    let kept: Vec<DeviceEntry> = entries
        .iter()
        .filter(|e| e.device_id != id_of(&bob2))
        .cloned()
        .collect();
    let m2 = SendMessage {
        device_entries: Some(kept.clone()),
        ..m2
    };
    assert_eq!(send(&mut a1, m2.clone()).await, Ok(()));
    assert_eq!(
        delivered(&mut b1, m2.message_id).await,
        Some(kept[0].clone())
    );

    // Bob's phone re-registers: a new number, announced; the old one is
    // stale.
    let resp = call(
        &s,
        &bob1,
        Method::PUT,
        "/v1/devices/current/registration",
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let new_reg = json(resp).await["registrationId"].as_u64().expect("number") as u32;
    assert_ne!(new_reg, b1_reg);
    for conn in [&mut a1, &mut a2] {
        assert_eq!(
            device_event(conn, &bob1, &bob1).await,
            (DeviceChange::Reregistered, Some(new_reg))
        );
    }
    let mut entries = vec![
        entry(&s, &alice1, &bob1, b1_reg).await,
        entry(&s, &alice1, &alice2, a2_reg).await,
        entry(&s, &alice1, &alice3, a3_reg).await,
    ];
    let m3 = per_device(&bob1, &entries);
    assert_eq!(
        send(&mut a1, m3.clone()).await,
        Err((
            FrameErrorCode::DeviceMismatch,
            Some(DeviceMismatch {
                missing: Vec::new(),
                extra: Vec::new(),
                stale: vec![at(&bob1, new_reg)],
            })
        ))
    );
    entries[0].registration_id = new_reg;
    let m3 = SendMessage {
        device_entries: Some(entries.clone()),
        ..m3
    };
    assert_eq!(send(&mut a1, m3.clone()).await, Ok(()));
    assert_eq!(
        delivered(&mut b1, m3.message_id).await,
        Some(entries[0].clone())
    );
    assert_eq!(
        delivered(&mut a2, m3.message_id).await,
        Some(entries[1].clone())
    );
    // Asking for the current number changes nothing and announces nothing.
    let resp = call(
        &s,
        &bob1,
        Method::PUT,
        "/v1/devices/current/registration",
        Some(json!({"registrationId": new_reg})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["registrationId"], new_reg);
    quiet(&mut a2, 300).await;
}

/// A block hides the directory and the device events, and a per-device
/// send to a blocker neither requires nor reports their devices (the
/// refusal must not reveal the block); its entries for them are dropped.
#[tokio::test]
async fn a_block_hides_the_directory_and_the_events_and_is_not_revealed_by_a_send() {
    let s = server().await;
    let (alice1, _) = register_with(&s, "db_alice", None).await;
    let (alice2, a2_reg) = login_with(&s, "db_alice", None).await;
    let (bob1, b1_reg) = register_with(&s, "db_bob", None).await;
    let (mut a1, _) = ws_resumed(&s, &alice1, None).await;
    assert_eq!(send(&mut a1, message_to(&bob1.user_id)).await, Ok(()));
    let (mut a2, _) = ws_resumed(&s, &alice2, None).await;
    let (mut b1, replayed) = ws_resumed(&s, &bob1, None).await;
    assert!(
        replayed
            .iter()
            .any(|f| matches!(f, ServerFrame::Message { .. }))
    );

    let resp = set_block(&s, &bob1, &alice1.user_id, true).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Alice can no longer read Bob's directory: the same 404 as nobody.
    let blocked = not_found_body(directory(&s, &alice1, &bob1.user_id).await).await;
    let nobody = not_found_body(directory(&s, &alice1, &Uuid::now_v7().to_string()).await).await;
    assert_eq!(blocked, nobody);
    // Bob still reads Alice's (she did not block him).
    assert_eq!(numbers(&s, &bob1, &alice1.user_id).await.len(), 2);

    // A send to Bob addressing only Alice's other device: accepted.
    let m = per_device(&bob1, &[entry(&s, &alice1, &alice2, a2_reg).await]);
    assert_eq!(send(&mut a1, m.clone()).await, Ok(()));
    assert!(delivered(&mut a2, m.message_id).await.is_some());
    // With an entry for Bob's device too: accepted alike, his is dropped.
    let m = per_device(
        &bob1,
        &[
            entry(&s, &alice1, &bob1, b1_reg).await,
            entry(&s, &alice1, &alice2, a2_reg).await,
        ],
    );
    assert_eq!(send(&mut a1, m.clone()).await, Ok(()));
    assert!(delivered(&mut a2, m.message_id).await.is_some());
    quiet(&mut b1, 300).await;

    // Bob's new device is announced to Bob, not to Alice.
    let (bob2, _) = login_with(&s, "db_bob", None).await;
    assert_eq!(
        device_event(&mut b1, &bob1, &bob2).await.0,
        DeviceChange::Added
    );
    quiet(&mut a1, 500).await;
    quiet(&mut a2, 100).await;
}

/// Bad entries are refused before anything is stored, and names stay
/// private until their owner shares them.
#[tokio::test]
async fn bad_entries_and_numbers_are_refused_and_names_are_private() {
    let s = server().await;
    let (alice, _) = register_with(&s, "dv_alice", None).await;
    let (bob, b_reg) = register_with(&s, "dv_bob", None).await;
    let (carol, c_reg) = register_with(&s, "dv_carol", None).await;
    let mut a = ws(&s, &alice).await;

    let good = entry(&s, &alice, &bob, b_reg).await;
    let cases = [
        (vec![good.clone(), good.clone()], "named twice"),
        (
            vec![DeviceEntry {
                registration_id: 0,
                ..good.clone()
            }],
            "registrationId",
        ),
        (
            vec![DeviceEntry {
                blob_id: "no/slashes".into(),
                ..good.clone()
            }],
            "blobId",
        ),
    ];
    for (entries, why) in cases {
        a.send_message(per_device(&bob, &entries))
            .await
            .expect("send");
        match until(&mut a, |f| match f {
            ServerFrame::Error { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .await
        {
            e if e.code == FrameErrorCode::ValidationFailed && e.message.contains(why) => {}
            other => panic!("{why}: {other:?}"),
        }
    }
    // Someone else's blob: not found.
    let bobs_blob = blob(&s, &bob).await;
    let stolen = DeviceEntry {
        blob_id: bobs_blob,
        ..good.clone()
    };
    assert_eq!(
        send(&mut a, per_device(&bob, &[stolen])).await,
        Err((FrameErrorCode::NotFound, None))
    );
    // A third user's device and the sending device itself: extra.
    let m = per_device(
        &bob,
        &[
            good.clone(),
            entry(&s, &alice, &carol, c_reg).await,
            entry(&s, &alice, &alice, 5).await,
        ],
    );
    let mut extra = vec![id_of(&carol), id_of(&alice)];
    extra.sort();
    assert_eq!(
        send(&mut a, m).await,
        Err((
            FrameErrorCode::DeviceMismatch,
            Some(DeviceMismatch {
                missing: Vec::new(),
                extra,
                stale: Vec::new(),
            })
        ))
    );
    // No entries at all: every addressed device is missing.
    assert_eq!(
        send(&mut a, per_device(&bob, &[])).await,
        Err((
            FrameErrorCode::DeviceMismatch,
            Some(DeviceMismatch {
                missing: vec![at(&bob, b_reg)],
                extra: Vec::new(),
                stale: Vec::new(),
            })
        ))
    );
    // A conversation-wide blob goes with the entries: both arrive.
    let (mut b, _) = ws_resumed(&s, &bob, None).await;
    let shared = blob(&s, &alice).await;
    let m = SendMessage {
        blob_id: Some(shared.clone()),
        ..per_device(&bob, std::slice::from_ref(&good))
    };
    assert_eq!(send(&mut a, m.clone()).await, Ok(()));
    let got = until(&mut b, |f| match f {
        ServerFrame::Message { payload, .. } if payload.message_id == m.message_id => {
            Some(payload.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(got.blob_id.as_deref(), Some(shared.as_str()));
    assert_eq!(got.device_entry, Some(good));

    // Registration numbers out of range.
    for bad in [json!(0), json!(2_147_483_648_u64), json!(-1)] {
        let resp = s
            .http()
            .post(s.url("/v1/auth/register"))
            .json(&json!({"username": "dv_dave", "password": PASSWORD, "registrationId": bad}))
            .send()
            .await
            .expect("register");
        assert!(
            resp.status() == StatusCode::UNPROCESSABLE_ENTITY
                || resp.status() == StatusCode::BAD_REQUEST,
            "{bad}: {}",
            resp.status()
        );
    }
    let resp = call(
        &s,
        &bob,
        Method::PUT,
        "/v1/devices/current/registration",
        Some(json!({"registrationId": 0})),
    )
    .await;
    expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // Without a token, or with a revoked device's: 401.
    let resp = s
        .http()
        .get(s.url(&format!("/v1/users/{}/devices", bob.user_id)))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (carol2, _) = login_with(&s, "dv_carol", None).await;
    let resp = call(
        &s,
        &carol,
        Method::DELETE,
        &format!("/v1/devices/{}", carol2.device_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::PUT, "/v1/devices/current/registration".to_owned()),
        (Method::GET, format!("/v1/users/{}/devices", bob.user_id)),
    ] {
        let resp = call(&s, &carol2, method, &path, Some(json!({}))).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Not a user id: 400.
    let resp = directory(&s, &alice, "not-a-uuid").await;
    expect_error(resp, StatusCode::BAD_REQUEST, "invalid_path").await;

    // Names: hidden from others until shared; the owner always sees them.
    let read = |body: Value| body["devices"][0]["name"].clone();
    assert_eq!(
        read(json(directory(&s, &alice, &bob.user_id).await).await),
        Value::Null
    );
    assert_eq!(
        read(json(directory(&s, &bob, &bob.user_id).await).await),
        "phone"
    );
    let resp = patch_me(&s, &bob, json!({"shareDeviceNames": true})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["shareDeviceNames"], true);
    assert_eq!(
        read(json(directory(&s, &alice, &bob.user_id).await).await),
        "phone"
    );
    // Own devices list the numbers too.
    let own = json(call(&s, &bob, Method::GET, "/v1/devices", None).await).await;
    assert_eq!(own["devices"][0]["registrationId"], b_reg);
}

/// In a group, a member who blocks the sender is neither required nor
/// told; every other member's device gets its entry.
#[tokio::test]
async fn a_group_per_device_send_skips_members_who_block_the_sender() {
    let s = server().await;
    let (alice, _) = register_with(&s, "dg_alice", None).await;
    let (bob, b_reg) = register_with(&s, "dg_bob", None).await;
    let (carol, _) = register_with(&s, "dg_carol", None).await;
    let group = group_with(&s, &alice, "device.group-1", &[&bob, &carol]).await;
    let resp = set_block(&s, &carol, &alice.user_id, true).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let mut a = ws(&s, &alice).await;
    let (mut b, _) = ws_resumed(&s, &bob, None).await;
    let (mut c, _) = ws_resumed(&s, &carol, None).await;

    let e = entry(&s, &alice, &bob, b_reg).await;
    let m = SendMessage {
        device_entries: Some(vec![e.clone()]),
        ..message_in(&group)
    };
    assert_eq!(send(&mut a, m.clone()).await, Ok(()));
    assert_eq!(delivered(&mut b, m.message_id).await, Some(e));
    quiet(&mut c, 300).await;
}

/// A refused per-device send leaves nothing behind: a first message to a
/// new peer creates no conversation (nor message request) until it is
/// sent right, and then the peer is told of the request as usual.
#[tokio::test]
async fn a_refused_first_message_leaves_no_conversation_and_the_resend_opens_the_request() {
    let s = server().await;
    let (alice, _) = register_with(&s, "dr_alice", None).await;
    let (bob, b_reg) = register_with(&s, "dr_bob", None).await;
    let resp = patch_me(&s, &bob, json!({"messagePolicy": "contacts"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (mut b, _) = ws_resumed(&s, &bob, None).await;
    let mut a = ws(&s, &alice).await;

    let m = per_device(&bob, &[entry(&s, &alice, &bob, b_reg + 1).await]);
    assert!(matches!(
        send(&mut a, m.clone()).await,
        Err((FrameErrorCode::DeviceMismatch, Some(_)))
    ));
    for d in [&alice, &bob] {
        let list = json(call(&s, d, Method::GET, "/v1/conversations", None).await).await;
        assert_eq!(list["conversations"], json!([]), "{list}");
    }
    quiet(&mut b, 300).await;

    let m = SendMessage {
        device_entries: Some(vec![entry(&s, &alice, &bob, b_reg).await]),
        ..m
    };
    assert_eq!(send(&mut a, m.clone()).await, Ok(()));
    let change = until(&mut b, |f| match f {
        ServerFrame::Conversation { payload, .. } => Some(payload.change),
        _ => None,
    })
    .await;
    assert_eq!(
        change,
        passerelle_client::ws::ConversationChange::RequestReceived
    );
    assert!(delivered(&mut b, m.message_id).await.is_some());
}
