//! The WebSocket half of the client against an in-test `passerelle.v1`
//! server (the gateway's endpoint is not needed): the handshake contract,
//! frames both ways, pings, closes, timeouts and source-address binding.

// A panic is how a test (or its helper) fails.
#![allow(clippy::expect_used)]

mod fake_ws;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use fake_ws::{Command, Echo};
use passerelle_client::ws::{ClientFrame, ServerFrame};
use passerelle_client::{Client, ClientError, ConnectOptions, TokenTransport};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const TOKEN: &str = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(5);

async fn connected() -> (fake_ws::FakeServer, passerelle_client::Connection) {
    let server = fake_ws::start(TOKEN, Echo::Exact).await;
    let conn = Client::new(&server.base_url)
        .connect(TOKEN)
        .await
        .expect("connect");
    (server, conn)
}

#[tokio::test]
async fn the_token_travels_as_a_subprotocol_entry_and_never_in_the_url() {
    let (mut server, mut conn) = connected().await;
    let seen = (&mut server.seen).await.expect("seen");
    assert_eq!(seen.uri, "/v1/ws");
    assert_eq!(
        seen.protocols.as_deref(),
        Some(format!("passerelle.v1, bearer.{TOKEN}").as_str())
    );
    assert_eq!(seen.authorization, None);
    assert_eq!(conn.protocol(), "passerelle.v1");

    let ServerFrame::Ready { payload } = conn.next().await.expect("ready") else {
        panic!("first frame is not ready");
    };
    assert_eq!((payload.last_seq, payload.acked_seq), (5, 3));

    conn.send(&ClientFrame::Ping, Some("p1"))
        .await
        .expect("ping");
    let pong = conn
        .next_timeout(LONG)
        .await
        .expect("read")
        .expect("pong in time");
    assert!(
        matches!(pong, ServerFrame::Pong { id: Some(ref i), .. } if i == "p1"),
        "{pong:?}"
    );
    conn.close().await.expect("close");
}

#[tokio::test]
async fn the_authorization_header_transport_offers_the_protocol_alone() {
    let mut server = fake_ws::start(TOKEN, Echo::Exact).await;
    let opts = ConnectOptions::default().transport(TokenTransport::AuthorizationHeader);
    let mut conn = Client::new(&server.base_url)
        .connect_with(TOKEN, opts)
        .await
        .expect("connect");
    let seen = (&mut server.seen).await.expect("seen");
    assert_eq!(seen.protocols.as_deref(), Some("passerelle.v1"));
    assert_eq!(seen.authorization, Some(format!("Bearer {TOKEN}")));
    assert!(matches!(conn.next().await, Ok(ServerFrame::Ready { .. })));
}

#[tokio::test]
async fn a_server_that_echoes_the_token_entry_is_refused() {
    let server = fake_ws::start(TOKEN, Echo::TokenEntry).await;
    let err = Client::new(&server.base_url)
        .connect(TOKEN)
        .await
        .expect_err("must refuse");
    assert!(matches!(err, ClientError::Protocol(_)), "{err:?}");
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
}

#[tokio::test]
async fn a_server_that_echoes_no_subprotocol_is_refused() {
    let server = fake_ws::start(TOKEN, Echo::Nothing).await;
    let err = Client::new(&server.base_url)
        .connect(TOKEN)
        .await
        .expect_err("must refuse");
    assert!(matches!(err, ClientError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn a_refused_upgrade_is_a_handshake_error_with_status_and_body() {
    let server = fake_ws::start(TOKEN, Echo::Refuse).await;
    let err = Client::new(&server.base_url)
        .connect(TOKEN)
        .await
        .expect_err("refused");
    let ClientError::Handshake { status, body } = &err else {
        panic!("not a handshake error: {err:?}");
    };
    assert_eq!(*status, 401);
    assert!(body.contains("unauthorized"), "{body}");
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_wrong_token_is_refused_by_the_checking_server() {
    let server = fake_ws::start(TOKEN, Echo::Exact).await;
    let err = Client::new(&server.base_url)
        .connect("other.token")
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(401), "{err:?}");
}

#[tokio::test]
async fn the_socket_is_bound_to_the_chosen_source_address() {
    let mut server = fake_ws::start(TOKEN, Echo::Exact).await;
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let opts = ConnectOptions::default()
        .local_addr(source)
        .read_buffer_size(4096);
    let mut conn = Client::new(&server.base_url)
        .connect_with(TOKEN, opts)
        .await
        .expect("connect from 127.0.0.2");
    let seen = (&mut server.seen).await.expect("seen");
    assert_eq!(seen.peer.ip(), source);
    assert!(matches!(conn.next().await, Ok(ServerFrame::Ready { .. })));
}

#[tokio::test]
async fn raw_text_goes_out_verbatim_and_comes_back_verbatim() {
    let (mut server, mut conn) = connected().await;
    assert_eq!(conn.next_raw().await.expect("ready"), server.ready_text);
    conn.send_raw("{not json").await.expect("send");
    assert_eq!(server.received().await, Message::text("{not json"));
    conn.ack(9).await.expect("ack");
    let Message::Text(t) = server.received().await else {
        panic!("not text");
    };
    let v: serde_json::Value = serde_json::from_str(t.as_str()).expect("json");
    assert_eq!(v, serde_json::json!({"type": "ack", "payload": {"seq": 9}}));
}

#[tokio::test]
async fn unreadable_and_binary_server_frames_are_protocol_errors() {
    let (server, mut conn) = connected().await;
    conn.next().await.expect("ready");
    server.push(Message::text(r#"{"type":"gossip","payload":{}}"#));
    assert!(matches!(conn.next().await, Err(ClientError::Protocol(_))));
    server.push(Message::binary(vec![1, 2, 3]));
    assert!(matches!(conn.next().await, Err(ClientError::Protocol(_))));
}

#[tokio::test]
async fn websocket_pings_are_answered_while_reading() {
    let (mut server, mut conn) = connected().await;
    conn.next().await.expect("ready");
    server.push(Message::Ping("hb".into()));
    assert_eq!(conn.next_timeout(SHORT).await.expect("read"), None);
    assert_eq!(server.received().await, Message::Pong("hb".into()));
}

#[tokio::test]
async fn a_close_frame_surfaces_its_code_and_reason() {
    let (server, mut conn) = connected().await;
    conn.next().await.expect("ready");
    let frame = CloseFrame {
        code: CloseCode::from(4003),
        reason: "revoked".into(),
    };
    server.push(Message::Close(Some(frame)));
    let err = conn.next().await.expect_err("closed");
    assert_eq!(
        err,
        ClientError::Closed {
            code: 4003,
            reason: "revoked".into()
        }
    );
}

#[tokio::test]
async fn a_dropped_connection_is_an_abnormal_close() {
    let (server, mut conn) = connected().await;
    conn.next().await.expect("ready");
    server
        .to_client
        .send(Command::Drop)
        .expect("server running");
    let err = conn.next().await.expect_err("dropped");
    assert_eq!(err.close_code(), Some(1006), "{err:?}");
}

#[tokio::test]
async fn close_sends_a_normal_close_frame() {
    let (mut server, mut conn) = connected().await;
    conn.next().await.expect("ready");
    conn.close().await.expect("close");
    let Message::Close(Some(frame)) = server.received().await else {
        panic!("no close frame");
    };
    assert_eq!(frame.code, CloseCode::Normal);
}

#[tokio::test]
async fn split_halves_send_and_receive_concurrently() {
    let (_server, conn) = connected().await;
    let (mut tx, mut rx) = conn.split();
    let sender = tokio::spawn(async move {
        for i in 0..20 {
            tx.send(&ClientFrame::Ping, Some(&format!("p{i}")))
                .await
                .expect("ping");
        }
        tx
    });
    assert!(matches!(rx.next().await, Ok(ServerFrame::Ready { .. })));
    for i in 0..20 {
        let frame = rx
            .next_timeout(LONG)
            .await
            .expect("read")
            .expect("pong in time");
        let ServerFrame::Pong { id, .. } = frame else {
            panic!("not a pong: {frame:?}");
        };
        assert_eq!(id, Some(format!("p{i}")));
    }
    let tx = sender.await.expect("sender task");
    tx.close().await.expect("close");
    let err = rx
        .next_timeout(LONG)
        .await
        .expect_err("closed after our close");
    assert_eq!(err.close_code(), Some(1000), "{err:?}");
}

#[tokio::test]
async fn a_silent_server_times_the_connect_out() {
    // Listening but never accepting: the TCP handshake completes in the
    // backlog and the upgrade is never answered.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let opts = ConnectOptions::default().timeout(Some(SHORT));
    let err = Client::new(&base)
        .connect_with(TOKEN, opts)
        .await
        .expect_err("timeout");
    assert!(
        matches!(err, ClientError::Io(ref m) if m.contains("timed out")),
        "{err:?}"
    );
    drop(listener);
}

#[tokio::test]
async fn wss_urls_are_refused_without_tls() {
    let err = Client::new("https://127.0.0.1:1")
        .connect(TOKEN)
        .await
        .expect_err("no TLS");
    assert!(
        matches!(err, ClientError::Protocol(ref m) if m.contains("TLS")),
        "{err:?}"
    );
}
