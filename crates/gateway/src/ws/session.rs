//! One WebSocket connection: a session of one device.
//!
//! The loop waits on five things at once: the client's frames, the hub's
//! queue of live events, a close order (revocation, shutdown, slow
//! consumer), the heartbeat, and the token's expiry. Sends and acks are
//! handed to the router and run concurrently (up to `MAX_IN_FLIGHT`), so one
//! client can pipeline. The device stream reaches the client only after a
//! `resume`: first what the database holds after the client's position, then
//! live events, with the [`Cursor`] making the seam exact. Live-only frames
//! (`room`, `typing`, `presence`) are sent as they come. Right after `ready`
//! the session sends `unread` (the unread counts, `unread`). The session
//! counts for its user's presence from before `ready` until it ends
//! (`crate::presence`). However the loop ends, the session then leaves the
//! link rooms it is in (`rooms`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{
    AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, MessageStream, Session,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use passerelle_api_types::ws::{Authenticated, FrameErrorCode, Pong, Ready, ServerFrame, close};
use passerelle_bus::{Admission, Caps};
use passerelle_store::batch::Outcome;
use passerelle_store::streams;
use uuid::Uuid;

use super::cursor::Cursor;
use super::inbound::{self, Action, Refusal, frame_text};
use super::limits::{TokenBucket, Verdict};
use super::replies::{AckState, Pending, Reply, sent_reply};
use crate::authn::{Caller, authenticate};
use crate::routing::hub::Outbound;
use crate::state::AppState;

/// Sends and acks of one session being processed at once.
const MAX_IN_FLIGHT: usize = 64;

/// Why the loop ended: the close frame to send, if any.
pub(super) type Ending = Option<(u16, String)>;

pub(super) struct Conn {
    pub(super) state: Arc<AppState>,
    pub(super) caller: Caller,
    pub(super) id: Uuid,
    pub(super) socket: Session,
    /// Where the client is in its stream; `None` until it sends `resume`.
    pub(super) cursor: Option<Cursor>,
    pub(super) token_deadline: tokio::time::Instant,
    /// Message ids this session sent whose `sent` it has not handled yet: a
    /// database replay in between must not hand them back to it.
    pub(super) in_flight: std::collections::HashSet<Uuid>,
    /// Acknowledgements: at most one is being stored at a time; the highest
    /// one asked for meanwhile follows it, and the others are folded into it
    /// (acks are cumulative), so a chatty client costs the writer little.
    pub(super) acks: AckState,
    /// The link rooms this session is in: conversation → link. Left when
    /// the session ends.
    pub(super) rooms: std::collections::HashMap<Uuid, Uuid>,
    /// When this session last relayed `started`, per conversation.
    pub(super) typing: super::typing::TypingThrottle,
    /// When this session last changed its presence (away / online).
    pub(super) presence_at: Option<Instant>,
}

/// When a session must end: the token's expiry plus the clock-skew leeway
/// the handshake allowed (so a token accepted at the upgrade is never
/// already past its session's deadline).
fn deadline_of(expires_at: i64, leeway_secs: u64) -> tokio::time::Instant {
    let left = expires_at.saturating_add(i64::try_from(leeway_secs).unwrap_or(0))
        - chrono::Utc::now().timestamp();
    tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0))
}

fn expiry_time(expires_at: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or_default()
}

/// Runs a session until it closes.
pub async fn run(state: Arc<AppState>, caller: Caller, socket: Session, stream: MessageStream) {
    let ws = state.settings.ws.clone();
    let id = Uuid::new_v4();
    let (user, device) = (caller.user_id.0, caller.device_id.0);
    let ttl = Duration::from_secs(ws.heartbeat_secs.max(1) * 3);
    let caps = Caps {
        per_device: ws.max_sessions_per_device,
        per_user: ws.max_sessions_per_user,
    };
    let admission = match state.sessions.register(user, device, id, ttl, caps).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "session registry unavailable; admitting");
            Admission::Admitted
        }
    };
    if admission != Admission::Admitted {
        let reason = format!("too many sessions ({admission:?})");
        let _ = socket
            .close(Some(close_reason(close::TOO_MANY_SESSIONS, &reason)))
            .await;
        return;
    }
    let membership = state.hub.join(user, device, id).await;
    tracing::debug!(connection = %id, user_id = %user, device_id = %device, "session opened");
    let mut conn = Conn {
        token_deadline: deadline_of(caller.expires_at, state.settings.auth.leeway_secs),
        state: state.clone(),
        caller,
        id,
        socket,
        cursor: None,
        in_flight: std::collections::HashSet::new(),
        acks: AckState::default(),
        rooms: std::collections::HashMap::new(),
        typing: super::typing::TypingThrottle::default(),
        presence_at: None,
    };
    // Counted for presence before `ready`: a client that sees `ready` is
    // online for its watchers.
    state.presence.opened(id, conn.caller.user_id).await;
    let max = state.settings.ws.max_frame_bytes;
    let mut stream = stream
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    let mut pending: FuturesUnordered<Pending> = FuturesUnordered::new();
    let ending = match conn
        .serve(
            &mut stream,
            membership.outbound,
            membership.close,
            &mut pending,
        )
        .await
    {
        Ok(never) => match never {},
        Err(ending) => ending,
    };
    if let Err(e) = state.sessions.unregister(user, device, id).await {
        tracing::debug!(error = %e, "session registry unregister failed");
    }
    state.presence.closed(id).await;
    tracing::debug!(connection = %id, ending = ?ending, "session closed");
    if let Some((code, reason)) = &ending {
        let _ = conn
            .socket
            .clone()
            .close(Some(close_reason(*code, reason)))
            .await;
    }
    // The client has its close; now leave the session's link rooms. Still
    // counted in the hub meanwhile, so a shutdown drain waits for this.
    conn.leave_all_rooms(&mut pending).await;
    drop(membership.guard);
    if ending.is_some() {
        // The closing handshake: give the client a moment to read the close
        // frame and answer it before the connection is dropped.
        let _ = tokio::time::timeout(LINGER, async {
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, AggregatedMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// How long a closing session waits for the client's close frame.
const LINGER: Duration = Duration::from_secs(1);

fn close_reason(code: u16, reason: &str) -> CloseReason {
    CloseReason {
        code: CloseCode::from(code),
        description: Some(reason.to_owned()),
    }
}

impl Conn {
    async fn serve(
        &mut self,
        stream: &mut AggregatedMessageStream,
        mut outbound: tokio::sync::mpsc::Receiver<Outbound>,
        mut close_order: tokio::sync::watch::Receiver<crate::routing::hub::CloseOrder>,
        pending: &mut FuturesUnordered<Pending>,
    ) -> Result<std::convert::Infallible, Ending> {
        let ws = self.state.settings.ws.clone();
        self.send_ready().await?;
        self.send_unread().await?;
        let heartbeat_every = Duration::from_secs(ws.heartbeat_secs.max(1));
        let mut heartbeat = tokio::time::interval(heartbeat_every);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        let mut bucket = TokenBucket::new(ws.frames_per_sec, ws.frame_burst);
        loop {
            let token_expiry = tokio::time::sleep_until(self.token_deadline);
            tokio::select! {
                // Replies first: the writer answers a send before it
                // publishes, so the `sent` (and the own sequence it records)
                // is always handled before the live copy of that message.
                biased;
                changed = close_order.changed() => {
                    let order = close_order.borrow().clone();
                    return Err(match (changed, order) {
                        (Ok(()), Some(order)) => Some(order),
                        _ => Some((close::RESTART, "node shutting down".into())),
                    });
                }
                Some(reply) = pending.next(), if !pending.is_empty() => {
                    self.on_reply(reply, pending).await?;
                }
                item = outbound.recv() => {
                    match item {
                        Some(Outbound::Frames(frames)) => {
                            for (seq, text) in frames {
                                self.on_live(seq, &text).await?;
                            }
                        }
                        Some(Outbound::Ephemeral(text)) => self.text(text.to_string()).await?,
                        Some(Outbound::Resync) => self.on_resync().await?,
                        None => return Err(Some((close::RESTART, "node shutting down".into()))),
                    }
                }
                msg = stream.next(), if pending.len() < MAX_IN_FLIGHT => {
                    last_heard = Instant::now();
                    match msg {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            match bucket.take(Instant::now()) {
                                Verdict::Accept => {}
                                Verdict::Refuse => {
                                    let r = Refusal::new(None, FrameErrorCode::RateLimited, "too many frames; slow down");
                                    self.text(r.frame()).await?;
                                    continue;
                                }
                                Verdict::Abuse => return Err(Some((close::POLICY, "rate limit ignored".into()))),
                            }
                            self.on_text(&text, pending).await?;
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            let r = Refusal::new(None, FrameErrorCode::InvalidFrame, "binary frames are not part of passerelle.v1");
                            self.text(r.frame()).await?;
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            if self.socket.pong(&bytes).await.is_err() {
                                return Err(None);
                            }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) | None => return Err(Some((1000, "bye".into()))),
                        Some(Err(actix_ws::ProtocolError::Overflow)) => {
                            return Err(Some((close::TOO_BIG, format!("frames are limited to {} bytes", ws.max_frame_bytes))));
                        }
                        Some(Err(actix_ws::ProtocolError::Io(_))) => return Err(None),
                        Some(Err(e)) => return Err(Some((1002, format!("protocol error: {e}")))),
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > heartbeat_every * 3 {
                        return Err(Some((close::HEARTBEAT_TIMEOUT, "no answer to pings".into())));
                    }
                    if self.socket.ping(b"").await.is_err() {
                        return Err(None);
                    }
                    let (user, device) = (self.caller.user_id.0, self.caller.device_id.0);
                    let _ = self.state.sessions.refresh(user, device, self.id, heartbeat_every * 3).await;
                }
                () = token_expiry => {
                    return Err(Some((close::TOKEN_EXPIRED, "access token expired; reconnect with a fresh one".into())));
                }
            }
        }
    }

    /// Sends a text frame; `Err(None)` when the socket is gone.
    pub(super) async fn text(&mut self, text: String) -> Result<(), Ending> {
        self.socket.text(text).await.map_err(|_| None)
    }

    async fn send_ready(&mut self) -> Result<(), Ending> {
        let (user, device) = (self.caller.user_id, self.caller.device_id);
        let stream_state = self
            .state
            .store
            .run(move |c| streams::state(c, device))
            .await
            .map_err(|e| Some((close::INTERNAL, format!("stream unavailable: {e}"))))?;
        let Some(stream_state) = stream_state else {
            return Err(Some((close::REVOKED, "device not found".into())));
        };
        let ready = ServerFrame::Ready {
            payload: Ready {
                user_id: user.0,
                device_id: device.0,
                connection_id: self.id,
                last_seq: stream_state.last_seq,
                acked_seq: stream_state.acked_seq,
                heartbeat_secs: self.state.settings.ws.heartbeat_secs,
                token_expires_at: expiry_time(self.caller.expires_at),
            },
        };
        self.text(frame_text(&ready)).await
    }

    async fn on_text(
        &mut self,
        text: &str,
        pending: &mut FuturesUnordered<Pending>,
    ) -> Result<(), Ending> {
        let action = match inbound::read(text, self.caller.user_id, self.caller.device_id) {
            Ok(action) => action,
            Err(refusal) => return self.text(refusal.frame()).await,
        };
        match action {
            Action::Send {
                id,
                message,
                recipients,
                entries,
            } => {
                let router = self.state.router.clone();
                let message_id = message.message_id;
                self.in_flight.insert(message_id);
                pending.push(Box::pin(async move {
                    let result = router.send(message, recipients, entries).await;
                    let own_seq = match &result {
                        Ok(Outcome::Sent { sender_seq, .. }) if *sender_seq > 0 => {
                            Some(*sender_seq)
                        }
                        _ => None,
                    };
                    Reply {
                        text: Some(sent_reply(id, result)),
                        own: Some((message_id, own_seq)),
                        ack_done: None,
                    }
                }));
            }
            Action::Ack { seq } => self.ack(seq, pending),
            Action::Resume { id, after } => self.resume(id, after).await?,
            Action::Auth { id, token } => self.reauth(id, &token).await?,
            Action::Ping { id } => {
                self.text(frame_text(&ServerFrame::Pong {
                    id,
                    payload: Pong {},
                }))
                .await?;
            }
            Action::EnterRoom { id, link } => self.enter_room(id, link).await?,
            Action::LeaveRoom { id, conversation } => {
                self.leave_room(id, conversation, pending).await?;
            }
            Action::Typing {
                id,
                conversation,
                state,
            } => self.typing(id, conversation, state).await?,
            Action::Presence { id, away } => self.set_presence(id, away).await?,
        }
        Ok(())
    }

    async fn reauth(&mut self, id: Option<String>, token: &str) -> Result<(), Ending> {
        match authenticate(&self.state, token).await {
            Ok(c) if c.user_id == self.caller.user_id && c.device_id == self.caller.device_id => {
                self.caller.expires_at = c.expires_at;
                self.token_deadline =
                    deadline_of(c.expires_at, self.state.settings.auth.leeway_secs);
                let frame = ServerFrame::Authenticated {
                    id,
                    payload: Authenticated {
                        token_expires_at: expiry_time(c.expires_at),
                    },
                };
                self.text(frame_text(&frame)).await
            }
            Ok(_) => {
                let r = Refusal::new(
                    id,
                    FrameErrorCode::Unauthorized,
                    "the token is for another device",
                );
                self.text(r.frame()).await
            }
            Err(e) => {
                let r = Refusal::new(
                    id,
                    FrameErrorCode::Unauthorized,
                    format!("token refused: {e}"),
                );
                self.text(r.frame()).await
            }
        }
    }
}
