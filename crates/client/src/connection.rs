//! A live `passerelle.v1` session: [`Connection`], and the [`Sender`] and
//! [`Receiver`] halves it splits into.
//!
//! The halves own the two directions of one socket, so a load generator can
//! send from one task while another reads. Reading answers the server's
//! WebSocket pings (tungstenite queues the pong and the next read flushes
//! it), so a session stays alive as long as someone reads it. A close frame
//! from the server surfaces as [`ClientError::Closed`] with its code.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use passerelle_api_types::ws::{
    Ack, ClientFrame, EnterRoom, LeaveRoom, Ready, Reauth, Resume, SendMessage, ServerFrame,
    SessionPresence, SetPresence, Typing, TypingState, Unread,
};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::ClientError;
use crate::frames::{envelope_text, parse_server_frame};

type Ws = WebSocketStream<TcpStream>;

/// How long [`Connection::close`] waits for the server's close reply.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// One WebSocket session.
#[derive(Debug)]
pub struct Connection {
    protocol: String,
    tx: Sender,
    rx: Receiver,
}

/// The sending half of a session.
#[derive(Debug)]
pub struct Sender {
    sink: SplitSink<Ws, Message>,
}

/// The receiving half of a session.
#[derive(Debug)]
pub struct Receiver {
    stream: SplitStream<Ws>,
}

impl Connection {
    pub(crate) fn new(ws: Ws, protocol: String) -> Self {
        let (sink, stream) = ws.split();
        Self {
            protocol,
            tx: Sender { sink },
            rx: Receiver { stream },
        }
    }

    /// The subprotocol the server echoed: always `passerelle.v1`, since any
    /// other answer is refused during the handshake.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// Sends `frame` in its envelope, with the correlation `id` if given.
    pub async fn send(&mut self, frame: &ClientFrame, id: Option<&str>) -> Result<(), ClientError> {
        self.tx.send(frame, id).await
    }

    /// Sends `text` as one text frame, unchecked (for tests of bad input).
    pub async fn send_raw(&mut self, text: &str) -> Result<(), ClientError> {
        self.tx.send_raw(text).await
    }

    /// Sends a `message` frame.
    pub async fn send_message(&mut self, msg: SendMessage) -> Result<(), ClientError> {
        self.tx.send_message(msg).await
    }

    /// Sends `resume` (after `after`, or after the device's acked sequence).
    pub async fn resume(&mut self, after: Option<u64>) -> Result<(), ClientError> {
        self.tx.resume(after).await
    }

    /// Sends `ack` for every event up to `seq`.
    pub async fn ack(&mut self, seq: u64) -> Result<(), ClientError> {
        self.tx.ack(seq).await
    }

    /// Hands over a fresh access token (`auth`).
    pub async fn reauth(&mut self, access_token: &str) -> Result<(), ClientError> {
        self.tx.reauth(access_token).await
    }

    /// Sends an application-level `ping`; the server answers `pong`.
    pub async fn ping(&mut self) -> Result<(), ClientError> {
        self.tx.ping().await
    }

    /// Enters the link room of `link` (`enter_room`); the server answers
    /// `room_entered`.
    pub async fn enter_room(&mut self, link: uuid::Uuid) -> Result<(), ClientError> {
        self.tx.enter_room(link).await
    }

    /// Leaves the room `conversation` (`leave_room`); the server answers
    /// `room_left`.
    pub async fn leave_room(&mut self, conversation: uuid::Uuid) -> Result<(), ClientError> {
        self.tx.leave_room(conversation).await
    }

    /// Tells the conversation's members that this user started or stopped
    /// typing (`typing`); nothing answers it unless it is refused.
    pub async fn typing(
        &mut self,
        conversation: uuid::Uuid,
        state: TypingState,
    ) -> Result<(), ClientError> {
        self.tx.typing(conversation, state).await
    }

    /// Sets this session away or active again (`presence`); nothing answers
    /// it unless it is refused.
    pub async fn set_presence(&mut self, status: SessionPresence) -> Result<(), ClientError> {
        self.tx.set_presence(status).await
    }

    /// The next server frame, parsed.
    pub async fn next(&mut self) -> Result<ServerFrame, ClientError> {
        self.rx.next().await
    }

    /// The two frames every session opens with, in order: `ready` and
    /// `unread`. Call it first, before reading anything else; any other
    /// frame in their place is [`ClientError::Protocol`] (a close, such as
    /// 4029, is [`ClientError::Closed`]).
    pub async fn greeting(&mut self) -> Result<(Ready, Unread), ClientError> {
        self.rx.greeting().await
    }

    /// The next server frame's raw text.
    pub async fn next_raw(&mut self) -> Result<String, ClientError> {
        self.rx.next_raw().await
    }

    /// The next server frame, or `Ok(None)` if none came within `d`.
    pub async fn next_timeout(&mut self, d: Duration) -> Result<Option<ServerFrame>, ClientError> {
        self.rx.next_timeout(d).await
    }

    /// The next raw text frame, or `Ok(None)` if none came within `d`.
    pub async fn next_raw_timeout(&mut self, d: Duration) -> Result<Option<String>, ClientError> {
        self.rx.next_raw_timeout(d).await
    }

    /// Closes the session (1000) and waits briefly for the server's reply.
    /// A session the server already closed closes without error.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.tx.send_close().await?;
        let rx = &mut self.rx;
        let drain = async {
            while let Some(m) = rx.stream.next().await {
                if matches!(m, Ok(Message::Close(_)) | Err(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
        Ok(())
    }

    /// Splits into halves that can be used from different tasks.
    pub fn split(self) -> (Sender, Receiver) {
        (self.tx, self.rx)
    }
}

impl Sender {
    /// Sends `frame` in its envelope, with the correlation `id` if given.
    pub async fn send(&mut self, frame: &ClientFrame, id: Option<&str>) -> Result<(), ClientError> {
        let text = envelope_text(frame, id)?;
        self.send_raw(&text).await
    }

    /// Sends `text` as one text frame, unchecked.
    pub async fn send_raw(&mut self, text: &str) -> Result<(), ClientError> {
        self.sink.send(Message::text(text)).await.map_err(ws_error)
    }

    /// Sends a `message` frame.
    pub async fn send_message(&mut self, msg: SendMessage) -> Result<(), ClientError> {
        self.send(&ClientFrame::Message(msg), None).await
    }

    /// Sends `resume`.
    pub async fn resume(&mut self, after: Option<u64>) -> Result<(), ClientError> {
        self.send(&ClientFrame::Resume(Resume { after }), None)
            .await
    }

    /// Sends `ack`.
    pub async fn ack(&mut self, seq: u64) -> Result<(), ClientError> {
        self.send(&ClientFrame::Ack(Ack { seq }), None).await
    }

    /// Sends `auth` with a fresh access token.
    pub async fn reauth(&mut self, access_token: &str) -> Result<(), ClientError> {
        let frame = ClientFrame::Auth(Reauth {
            access_token: access_token.to_owned(),
        });
        self.send(&frame, None).await
    }

    /// Sends an application-level `ping`.
    pub async fn ping(&mut self) -> Result<(), ClientError> {
        self.send(&ClientFrame::Ping, None).await
    }

    /// Sends `enter_room`.
    pub async fn enter_room(&mut self, link: uuid::Uuid) -> Result<(), ClientError> {
        self.send(&ClientFrame::EnterRoom(EnterRoom { link }), None)
            .await
    }

    /// Sends `leave_room`.
    pub async fn leave_room(&mut self, conversation: uuid::Uuid) -> Result<(), ClientError> {
        let frame = ClientFrame::LeaveRoom(LeaveRoom {
            conversation_id: conversation,
        });
        self.send(&frame, None).await
    }

    /// Sends `typing`.
    pub async fn typing(
        &mut self,
        conversation: uuid::Uuid,
        state: TypingState,
    ) -> Result<(), ClientError> {
        let frame = ClientFrame::Typing(Typing {
            conversation_id: conversation,
            state,
        });
        self.send(&frame, None).await
    }

    /// Sends `presence`.
    pub async fn set_presence(&mut self, status: SessionPresence) -> Result<(), ClientError> {
        let frame = ClientFrame::Presence(SetPresence { status });
        self.send(&frame, None).await
    }

    /// Sends a close frame (1000) and shuts the sending side. The receiver
    /// then sees the server's close reply as [`ClientError::Closed`].
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.send_close().await
    }

    async fn send_close(&mut self) -> Result<(), ClientError> {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        match self.sink.send(Message::Close(Some(frame))).await {
            Ok(()) => Ok(()),
            Err(e) if is_closed(&e) => Ok(()),
            Err(e) => Err(ws_error(e)),
        }
    }
}

impl Receiver {
    /// See [`Connection::greeting`].
    pub async fn greeting(&mut self) -> Result<(Ready, Unread), ClientError> {
        let ready = match self.next().await? {
            ServerFrame::Ready { payload } => payload,
            other => return Err(unexpected("ready", &other)),
        };
        match self.next().await? {
            ServerFrame::Unread { payload } => Ok((ready, payload)),
            other => Err(unexpected("unread", &other)),
        }
    }

    /// The next server frame, parsed.
    pub async fn next(&mut self) -> Result<ServerFrame, ClientError> {
        parse_server_frame(&self.next_raw().await?)
    }

    /// The next server text frame, as sent. Skips WebSocket pings and
    /// pongs (pings are answered); a close frame, or the end of the
    /// connection, is [`ClientError::Closed`].
    pub async fn next_raw(&mut self) -> Result<String, ClientError> {
        loop {
            let Some(msg) = self.stream.next().await else {
                return Err(abnormal_close());
            };
            match msg.map_err(ws_error)? {
                Message::Text(t) => return Ok(t.as_str().to_owned()),
                Message::Binary(_) => {
                    return Err(ClientError::Protocol(
                        "the server sent a binary frame; passerelle.v1 is text only".into(),
                    ));
                }
                Message::Close(frame) => {
                    // Poll once more without waiting: that flushes the close
                    // reply tungstenite queued.
                    let _ = self.stream.next().now_or_never();
                    return Err(match frame {
                        Some(f) => ClientError::Closed {
                            code: u16::from(f.code),
                            reason: f.reason.as_str().to_owned(),
                        },
                        None => ClientError::Closed {
                            code: 1005,
                            reason: String::new(),
                        },
                    });
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// The next server frame, or `Ok(None)` if none came within `d`.
    pub async fn next_timeout(&mut self, d: Duration) -> Result<Option<ServerFrame>, ClientError> {
        match self.next_raw_timeout(d).await? {
            Some(text) => parse_server_frame(&text).map(Some),
            None => Ok(None),
        }
    }

    /// The next raw text frame, or `Ok(None)` if none came within `d`.
    pub async fn next_raw_timeout(&mut self, d: Duration) -> Result<Option<String>, ClientError> {
        // Cancelling `next_raw` loses nothing: it only ever returns the frame
        // it just read.
        match tokio::time::timeout(d, self.next_raw()).await {
            Ok(r) => r.map(Some),
            Err(_) => Ok(None),
        }
    }
}

fn unexpected(expected: &str, got: &ServerFrame) -> ClientError {
    let kind = serde_json::to_value(got)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default();
    ClientError::Protocol(format!("expected `{expected}`, got `{kind}`"))
}

/// The connection ended without a close frame (RFC 6455's 1006).
fn abnormal_close() -> ClientError {
    ClientError::Closed {
        code: 1006,
        reason: "the connection ended without a close frame".into(),
    }
}

fn is_closed(e: &tokio_tungstenite::tungstenite::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as E;
    matches!(e, E::ConnectionClosed | E::AlreadyClosed)
}

fn ws_error(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    use tokio_tungstenite::tungstenite::Error as E;
    use tokio_tungstenite::tungstenite::error::ProtocolError as P;
    match e {
        E::ConnectionClosed | E::AlreadyClosed => ClientError::Closed {
            code: 1006,
            reason: "the connection is closed".into(),
        },
        E::Protocol(P::ResetWithoutClosingHandshake) => abnormal_close(),
        E::Io(e) => ClientError::Io(e.to_string()),
        other => ClientError::Protocol(other.to_string()),
    }
}
