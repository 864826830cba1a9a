//! Helpers shared by the integration tests: starting nodes, registering
//! users, reading error bodies.

use passerelle_test_support::{TestServer, TestServerBuilder};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_passerelle");
pub const PASSWORD: &str = "correct horse battery";

pub fn builder() -> TestServerBuilder {
    TestServer::builder(BIN)
}

pub async fn server() -> TestServer {
    builder().spawn().await
}

/// One signed-in device.
#[derive(Debug, Clone)]
pub struct Device {
    pub user_id: String,
    pub device_id: String,
    pub access: String,
    pub refresh: String,
}

impl Device {
    fn from_body(body: &Value) -> Device {
        Device {
            user_id: body["userId"].as_str().expect("userId").to_owned(),
            device_id: body["deviceId"].as_str().expect("deviceId").to_owned(),
            access: body["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh: body["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
        }
    }
}

pub async fn register(s: &TestServer, username: &str) -> Device {
    let resp = s
        .http()
        .post(s.url("/v1/auth/register"))
        .json(&json!({"username": username, "password": PASSWORD, "deviceName": "phone", "platform": "android"}))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), StatusCode::CREATED, "register {username}");
    Device::from_body(&resp.json().await.expect("json"))
}

pub async fn login(s: &TestServer, username: &str, password: &str) -> Response {
    s.http()
        .post(s.url("/v1/auth/login"))
        .json(&json!({"username": username, "password": password, "deviceName": "laptop"}))
        .send()
        .await
        .expect("login")
}

pub async fn login_ok(s: &TestServer, username: &str) -> Device {
    let resp = login(s, username, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK, "login {username}");
    Device::from_body(&resp.json().await.expect("json"))
}

pub async fn refresh(s: &TestServer, token: &str) -> Response {
    s.http()
        .post(s.url("/v1/auth/refresh"))
        .json(&json!({"refreshToken": token}))
        .send()
        .await
        .expect("refresh")
}

pub async fn refresh_ok(s: &TestServer, token: &str) -> Device {
    let resp = refresh(s, token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    Device::from_body(&resp.json().await.expect("json"))
}

/// An authenticated request.
pub fn authed(s: &TestServer, method: reqwest::Method, path: &str, token: &str) -> RequestBuilder {
    s.http().request(method, s.url(path)).bearer_auth(token)
}

pub async fn get_me(s: &TestServer, token: &str) -> Response {
    authed(s, reqwest::Method::GET, "/v1/me", token)
        .send()
        .await
        .expect("me")
}

/// Asserts an error response: status, code, and the documented body shape.
pub async fn expect_error(resp: Response, status: StatusCode, code: &str) -> String {
    assert_eq!(resp.status(), status, "status for expected {code}");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        ct.starts_with("application/json"),
        "error content type {ct}"
    );
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "error body {body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(!message.is_empty());
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "only `error` at top level: {body}"
    );
    message
}

pub async fn json(resp: Response) -> Value {
    resp.json().await.expect("json body")
}

/// A WebSocket session of `d`, with the token in `Sec-WebSocket-Protocol`,
/// after its `ready` and `unread` frames.
pub async fn ws(s: &TestServer, d: &Device) -> passerelle_client::Connection {
    ws_with_unread(s, d).await.0
}

/// As [`ws`], with the `unread` frame the session opened with.
pub async fn ws_with_unread(
    s: &TestServer,
    d: &Device,
) -> (passerelle_client::Connection, passerelle_client::ws::Unread) {
    let client = passerelle_client::Client::new(&s.url(""));
    let mut conn = client.connect(&d.access).await.expect("websocket");
    let greeting = tokio::time::timeout(std::time::Duration::from_secs(10), conn.greeting());
    match greeting.await {
        Ok(Ok((ready, unread))) => {
            assert_eq!(ready.device_id.to_string(), d.device_id);
            (conn, unread)
        }
        Ok(Err(e)) => panic!("expected ready then unread: {e}"),
        Err(_) => panic!("no ready and unread within 10 s"),
    }
}

/// `ws` plus `resume` (from `after`) and its `synced`; returns the frames
/// replayed before it.
pub async fn ws_resumed(
    s: &TestServer,
    d: &Device,
    after: Option<u64>,
) -> (
    passerelle_client::Connection,
    Vec<passerelle_client::ws::ServerFrame>,
) {
    let mut conn = ws(s, d).await;
    conn.resume(after).await.expect("resume");
    let mut replayed = Vec::new();
    loop {
        match next(&mut conn).await {
            passerelle_client::ws::ServerFrame::Synced { .. } => return (conn, replayed),
            other => replayed.push(other),
        }
    }
}

/// The next frame within 10 s.
pub async fn next(conn: &mut passerelle_client::Connection) -> passerelle_client::ws::ServerFrame {
    match conn.next_timeout(std::time::Duration::from_secs(10)).await {
        Ok(Some(frame)) => frame,
        Ok(None) => panic!("no frame within 10 s"),
        Err(e) => panic!("connection error: {e}"),
    }
}

/// Asserts nothing arrives within `ms`.
pub async fn quiet(conn: &mut passerelle_client::Connection, ms: u64) {
    match conn
        .next_timeout(std::time::Duration::from_millis(ms))
        .await
    {
        Ok(None) => {}
        other => panic!("expected silence, got {other:?}"),
    }
}

/// The close code the server ends the session with (within 10 s).
pub async fn closed_with(conn: &mut passerelle_client::Connection) -> u16 {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match conn.next_timeout(left).await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("not closed within 10 s"),
            Err(passerelle_client::ClientError::Closed { code, .. }) => return code,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

/// A `message` frame for `recipient` with a fresh message id.
pub fn message_to(recipient: &str) -> passerelle_client::ws::SendMessage {
    passerelle_client::ws::SendMessage {
        device_entries: None,
        message_id: uuid::Uuid::new_v4(),
        recipient_id: Some(recipient.parse().expect("uuid")),
        conversation_id: None,
        timestamp: chrono::Utc::now(),
        session_id: "signal-session-1".into(),
        message_type: passerelle_client::ws::MessageType::Text,
        reply_to: None,
        blob_id: None,
        game_id: None,
    }
}

/// The value of the metric line starting with `prefix` in `/metrics` (0
/// when absent).
pub async fn metric(s: &TestServer, prefix: &str) -> f64 {
    let text = s
        .http()
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}

// ---- social: contacts, blocks, profiles ----

/// `POST /v1/contacts` with `body`.
pub async fn add_contact(s: &TestServer, d: &Device, body: Value) -> Response {
    authed(s, reqwest::Method::POST, "/v1/contacts", &d.access)
        .json(&body)
        .send()
        .await
        .expect("add contact")
}

/// `GET /v1/contacts` or `GET /v1/blocks` (`list`), with a query string.
pub async fn list_page(s: &TestServer, d: &Device, list: &str, query: &str) -> Response {
    authed(
        s,
        reqwest::Method::GET,
        &format!("/v1/{list}{query}"),
        &d.access,
    )
    .send()
    .await
    .expect("list")
}

/// Every entry of a list (`contacts` or `blocks`), following the cursors
/// with pages of `limit`; also returns the number of pages.
pub async fn list_all(s: &TestServer, d: &Device, list: &str, limit: u32) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit={limit}&cursor={c}"),
            None => format!("?limit={limit}"),
        };
        let resp = list_page(s, d, list, &query).await;
        assert_eq!(resp.status(), StatusCode::OK, "{list}{query}");
        let body = json(resp).await;
        let items = body[list].as_array().expect("entries").clone();
        assert!(items.len() <= limit as usize);
        pages += 1;
        all.extend(items);
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert!(body["nextCursor"].is_null(), "{body}");
                return (all, pages);
            }
        }
    }
}

/// The user ids of a whole list.
pub async fn list_ids(s: &TestServer, d: &Device, list: &str) -> Vec<String> {
    list_all(s, d, list, 100)
        .await
        .0
        .iter()
        .map(|e| e["userId"].as_str().expect("userId").to_owned())
        .collect()
}

/// `PUT /v1/blocks/{user}` (or `DELETE` with `block = false`).
pub async fn set_block(s: &TestServer, d: &Device, user: &str, block: bool) -> Response {
    let method = if block {
        reqwest::Method::PUT
    } else {
        reqwest::Method::DELETE
    };
    authed(s, method, &format!("/v1/blocks/{user}"), &d.access)
        .send()
        .await
        .expect("block")
}

/// `GET /v1/users/{username}`, signed in with `token` or anonymous.
pub async fn lookup(s: &TestServer, token: Option<&str>, username: &str) -> Response {
    let mut req = s.http().get(s.url(&format!("/v1/users/{username}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("lookup")
}

/// `PATCH /v1/me` with `body`.
pub async fn patch_me(s: &TestServer, d: &Device, body: Value) -> Response {
    authed(s, reqwest::Method::PATCH, "/v1/me", &d.access)
        .json(&body)
        .send()
        .await
        .expect("patch me")
}

/// The whole body of a 404 (`not_found`), for comparing refusals.
pub async fn not_found_body(resp: Response) -> Value {
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    body
}

// ---- conversations ----

/// A request with an optional JSON body, as `d`.
pub async fn call(
    s: &TestServer,
    d: &Device,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    let mut req = authed(s, method, path, &d.access);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

/// `POST /v1/conversations` for a group with `extra` fields; asserts 201
/// and returns the conversation.
pub async fn new_group(s: &TestServer, owner: &Device, name: &str, extra: Value) -> Value {
    let mut body = json!({"kind": "group", "name": name});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let resp = call(
        s,
        owner,
        reqwest::Method::POST,
        "/v1/conversations",
        Some(body),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "create group {name}");
    json(resp).await
}

/// A group with add policy `direct` owned by `owner`, with `members`
/// added; returns its id.
pub async fn group_with(s: &TestServer, owner: &Device, name: &str, members: &[&Device]) -> String {
    let ids: Vec<&str> = members.iter().map(|d| d.user_id.as_str()).collect();
    let g = new_group(
        s,
        owner,
        name,
        json!({"addPolicy": "direct", "members": ids}),
    )
    .await;
    assert_eq!(g["memberCount"], 1 + members.len() as u64, "{g}");
    g["id"].as_str().expect("id").to_owned()
}

/// `POST /v1/conversations/{id}/members {userId}`.
pub async fn add_member(s: &TestServer, d: &Device, conversation: &str, user: &str) -> Response {
    call(
        s,
        d,
        reqwest::Method::POST,
        &format!("/v1/conversations/{conversation}/members"),
        Some(json!({"userId": user})),
    )
    .await
}

/// The user ids of a conversation's members, as `d` lists them.
pub async fn member_ids(s: &TestServer, d: &Device, conversation: &str) -> Vec<String> {
    let resp = call(
        s,
        d,
        reqwest::Method::GET,
        &format!("/v1/conversations/{conversation}/members?limit=100"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["userId"].as_str().expect("userId").to_owned())
        .collect()
}

/// The next frame, which must be a `conversation` event.
pub async fn next_change(
    conn: &mut passerelle_client::Connection,
) -> passerelle_client::ws::ConversationEvent {
    match next(conn).await {
        passerelle_client::ws::ServerFrame::Conversation { payload, .. } => payload,
        other => panic!("expected a conversation event, got {other:?}"),
    }
}

/// Asserts that each connection's next frame is the `change` of
/// `conversation` about `user` (when given).
pub async fn expect_change(
    conns: &mut [&mut passerelle_client::Connection],
    conversation: &str,
    change: passerelle_client::ws::ConversationChange,
    user: Option<&str>,
) -> Vec<passerelle_client::ws::ConversationEvent> {
    let mut events = Vec::new();
    for (i, conn) in conns.iter_mut().enumerate() {
        let e = next_change(conn).await;
        assert_eq!(
            e.conversation_id.to_string(),
            conversation,
            "connection {i}"
        );
        assert_eq!(e.change, change, "connection {i}: {e:?}");
        if let Some(u) = user {
            assert_eq!(
                e.user_id.map(|u| u.to_string()).as_deref(),
                Some(u),
                "connection {i}"
            );
        }
        events.push(e);
    }
    events
}

/// A `message` frame for a conversation.
pub fn message_in(conversation: &str) -> passerelle_client::ws::SendMessage {
    passerelle_client::ws::SendMessage {
        device_entries: None,
        recipient_id: None,
        conversation_id: Some(conversation.parse().expect("uuid")),
        ..message_to(&uuid::Uuid::nil().to_string())
    }
}

/// The `messageId`s of a conversation's history as `d` reads it (first
/// page of up to 100, newest first).
pub async fn history_ids(
    s: &TestServer,
    d: &Device,
    conversation: impl std::fmt::Display,
) -> Vec<uuid::Uuid> {
    let resp = call(
        s,
        d,
        reqwest::Method::GET,
        &format!("/v1/conversations/{conversation}/messages?limit=100"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["messageId"].as_str().expect("id").parse().expect("uuid"))
        .collect()
}
