//! A one-connection `passerelle.v1` WebSocket server for the client's tests,
//! standing in for the gateway's endpoint.
//!
//! It checks the offered subprotocols the way the gateway must (exactly
//! `passerelle.v1` plus `bearer.<token>`, or `passerelle.v1` alone with an
//! `Authorization` header), records what it saw, echoes a subprotocol as the
//! test asks (including the wrong answers a client must refuse), sends a
//! `ready` frame, answers `ping` with `pong`, forwards everything else it
//! receives to the test, and sends whatever the test pushes.

// tungstenite's handshake callback returns its (large) `ErrorResponse`.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use passerelle_api_types::ws::{ClientEnvelope, Ready, ServerFrame};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};

/// What the server answers to the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// `Sec-WebSocket-Protocol: passerelle.v1`, as the gateway must.
    Exact,
    /// The token entry (a broken server): the client must refuse.
    TokenEntry,
    /// No subprotocol at all: the client must refuse.
    Nothing,
    /// A 401 with the documented JSON error body.
    Refuse,
}

/// What the server saw in the upgrade request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub peer: SocketAddr,
    pub uri: String,
    pub protocols: Option<String>,
    pub authorization: Option<String>,
}

/// What the test asks the server to do.
pub enum Command {
    Send(Message),
    /// Drop the TCP connection without a close frame.
    Drop,
}

pub struct FakeServer {
    pub base_url: String,
    pub seen: oneshot::Receiver<Seen>,
    pub to_client: mpsc::UnboundedSender<Command>,
    pub from_client: mpsc::UnboundedReceiver<Message>,
    /// The exact text of the `ready` frame sent first.
    pub ready_text: String,
}

impl FakeServer {
    pub fn push(&self, msg: Message) {
        self.to_client
            .send(Command::Send(msg))
            .expect("server running");
    }

    /// The next message the client sent (other than `ping` frames).
    pub async fn received(&mut self) -> Message {
        tokio::time::timeout(std::time::Duration::from_secs(5), self.from_client.recv())
            .await
            .expect("client frame within 5 s")
            .expect("server running")
    }
}

pub fn ready_text() -> String {
    let frame = ServerFrame::Ready {
        payload: Ready {
            user_id: uuid::Uuid::nil(),
            device_id: uuid::Uuid::nil(),
            connection_id: uuid::Uuid::max(),
            last_seq: 5,
            acked_seq: 3,
            heartbeat_secs: 30,
            token_expires_at: "2030-01-01T00:00:00Z".parse().expect("time"),
        },
    };
    serde_json::to_string(&frame).expect("ready json")
}

/// Does the offer match the contract for `token`?
fn offer_is_valid(req: &Request, token: &str) -> bool {
    let protocols: Vec<&str> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let bearer = format!("bearer.{token}");
    let auth = req.headers().get(header::AUTHORIZATION);
    match auth {
        None => protocols == ["passerelle.v1", bearer.as_str()],
        Some(a) => {
            a.to_str().ok() == Some(&format!("Bearer {token}")) && protocols == ["passerelle.v1"]
        }
    }
}

/// `Some(id)` when `msg` is an application-level `ping` frame.
fn ping_id(msg: &Message) -> Option<Option<String>> {
    let Message::Text(t) = msg else { return None };
    let env = serde_json::from_str::<ClientEnvelope>(t.as_str()).ok()?;
    (env.kind == "ping").then_some(env.id)
}

/// Starts a server on `127.0.0.1:0` that expects `token` and answers with
/// `echo`.
pub async fn start(token: &str, echo: Echo) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (seen_tx, seen) = oneshot::channel();
    let (to_client, mut commands) = mpsc::unbounded_channel();
    let (forward, from_client) = mpsc::unbounded_channel();
    let token = token.to_owned();
    let ready = ready_text();
    let ready_text = ready.clone();
    tokio::spawn(async move {
        let (tcp, peer) = listener.accept().await.expect("accept");
        let callback =
            move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
                let get = |h| {
                    req.headers()
                        .get(h)
                        .and_then(|v: &HeaderValue| v.to_str().ok())
                        .map(str::to_owned)
                };
                let _ = seen_tx.send(Seen {
                    peer,
                    uri: req.uri().to_string(),
                    protocols: get(header::SEC_WEBSOCKET_PROTOCOL),
                    authorization: get(header::AUTHORIZATION),
                });
                if echo == Echo::Refuse || !offer_is_valid(req, &token) {
                    let body =
                        r#"{"error":{"code":"unauthorized","message":"no usable access token"}}"#;
                    let mut err = ErrorResponse::new(Some(body.to_owned()));
                    *err.status_mut() = StatusCode::UNAUTHORIZED;
                    return Err(err);
                }
                let echoed = match echo {
                    Echo::Exact => Some("passerelle.v1".to_owned()),
                    Echo::TokenEntry => Some(format!("bearer.{token}")),
                    Echo::Nothing | Echo::Refuse => None,
                };
                if let Some(p) = echoed {
                    let value = HeaderValue::from_str(&p).expect("header");
                    resp.headers_mut()
                        .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
                }
                Ok(resp)
            };
        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
            return;
        };
        if ws.send(Message::text(ready)).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                msg = ws.next() => {
                    let Some(Ok(msg)) = msg else { return };
                    if let Some(id) = ping_id(&msg) {
                        let pong = serde_json::json!({"type": "pong", "id": id, "payload": {}});
                        let _ = ws.send(Message::text(pong.to_string())).await;
                        continue;
                    }
                    let closing = matches!(msg, Message::Close(_));
                    let _ = forward.send(msg);
                    if closing {
                        let _ = ws.flush().await;
                        return;
                    }
                }
                cmd = commands.recv() => match cmd {
                    Some(Command::Send(m)) => { let _ = ws.send(m).await; }
                    Some(Command::Drop) | None => return,
                },
            }
        }
    });
    FakeServer {
        base_url: format!("http://{addr}"),
        seen,
        to_client,
        from_client,
        ready_text,
    }
}
