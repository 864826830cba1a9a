//! Stored rows to protocol payloads and bus envelopes.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use passerelle_api_types::GameInviteState;
use passerelle_api_types::ws::{
    ConversationChange, ConversationEvent, DeviceEntry, GameEvent, MessageEvent, MessageType,
    ReceiptEvent, ReceiptStatus,
};
use passerelle_store::UserId;
use passerelle_store::batch::{Entry, Note, Notice, Outcome, Rules};
use passerelle_store::games::{GameInviteRow, GameState};
use passerelle_store::streams::{EventKind, MessageRow, StreamEvent};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::envelope::{Envelope, Event};

pub fn message_event(m: &MessageRow) -> MessageEvent {
    MessageEvent {
        message_id: m.message_id,
        server_id: m.id,
        sender_id: m.sender_id.0,
        sender_device_id: m.sender_device_id.0,
        conversation_id: m.conversation_id,
        recipient_id: m.recipient_id.map(|u| u.0),
        // Stored types are written from `MessageType`, so this never falls back.
        message_type: MessageType::parse(&m.message_type).unwrap_or(MessageType::System),
        session_id: m.session_id.clone(),
        timestamp: m.timestamp,
        server_timestamp: m.created_at,
        reply_to: m.reply_to,
        blob_id: m.blob_id.clone(),
        expires_at: m.expires_at,
        game_id: m.game_id.clone(),
        device_entry: None,
    }
}

/// The API form of a per-device send's entry.
pub fn device_entry(e: &Entry) -> DeviceEntry {
    DeviceEntry {
        device_id: e.device_id.0,
        registration_id: e.registration_id,
        blob_id: e.blob_id.clone(),
    }
}

/// A message event with the entry addressed to the receiving device.
fn message_event_for(m: &MessageRow, entry: Option<&Entry>) -> MessageEvent {
    let mut event = message_event(m);
    event.device_entry = entry.map(device_entry);
    event
}

/// What the writers' batches need from the gateway: the payload of the
/// events a send causes, and how long a game invitation stays pending.
pub fn rules(game_invite_ttl: std::time::Duration) -> Rules {
    Rules {
        notice: notice_payload,
        game_invite_ttl,
    }
}

/// The `conversation` event of a [`Notice`], serialised from the documented
/// frame type.
fn notice_payload(n: &Notice, at: DateTime<Utc>) -> String {
    let (conversation, change, requester, actor) = match *n {
        Notice::RequestReceived {
            conversation,
            requester,
            ..
        } => (
            conversation,
            ConversationChange::RequestReceived,
            requester,
            requester,
        ),
        Notice::RequestAccepted {
            conversation,
            requester,
            addressee,
        } => (
            conversation,
            ConversationChange::RequestAccepted,
            requester,
            addressee,
        ),
    };
    let event = ConversationEvent {
        conversation_id: conversation,
        change,
        user_id: Some(requester.0),
        actor_id: Some(actor.0),
        role: None,
        disappear_secs: None,
        at,
    };
    serde_json::to_string(&event).unwrap_or_else(|_| "{}".into())
}

/// The API form of an invitation's state.
pub fn game_state(s: GameState) -> GameInviteState {
    match s {
        GameState::Pending => GameInviteState::Pending,
        GameState::Accepted => GameInviteState::Accepted,
        GameState::Declined => GameInviteState::Declined,
        GameState::Expired => GameInviteState::Expired,
        GameState::Cancelled => GameInviteState::Cancelled,
    }
}

/// The `game` event of `invite` moving to `state` (by `actor`, if someone
/// did it), for its audience's devices: both users, or only the inviter
/// when the invitation is withheld from the invitee.
pub fn game_note(
    invite: &GameInviteRow,
    state: GameState,
    actor: Option<UserId>,
    at: DateTime<Utc>,
) -> Note {
    let event = GameEvent {
        conversation_id: invite.conversation_id,
        message_id: invite.message_id,
        game_id: invite.game_id.clone(),
        state: game_state(state),
        actor_id: actor.map(|u| u.0),
        at,
    };
    Note {
        users: invite.audience(),
        kind: EventKind::Game,
        payload: serde_json::to_string(&event).unwrap_or_else(|_| "{}".into()),
    }
}

fn receipt_event(e: &StreamEvent, m: &MessageRow) -> ReceiptEvent {
    ReceiptEvent {
        message_id: m.message_id,
        user_id: e.actor_user_id.map_or(Uuid::nil(), |u| u.0),
        device_id: e.actor_device_id.map_or(Uuid::nil(), |d| d.0),
        status: ReceiptStatus::Delivered,
        at: e.created_at,
    }
}

fn raw<T: serde::Serialize>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value)
        .unwrap_or_else(|_| RawValue::from_string("{}".into()).unwrap_or_default())
}

/// The frame type and payload of a stored stream event; `None` for a
/// message or receipt whose message is gone, or a payload that is not JSON.
pub fn stream_event(e: &StreamEvent) -> Option<Event> {
    let (kind, payload) = match (e.kind, &e.message) {
        (EventKind::Message, Some(m)) => {
            let entry = e.payload.as_deref().and_then(Entry::from_meta);
            ("message", raw(&message_event_for(m, entry.as_ref())))
        }
        (EventKind::Receipt, Some(m)) => ("receipt", raw(&receipt_event(e, m))),
        (EventKind::Conversation, _) => (
            "conversation",
            RawValue::from_string(e.payload.clone()?).ok()?,
        ),
        (EventKind::Deleted, _) => ("deleted", RawValue::from_string(e.payload.clone()?).ok()?),
        (EventKind::Expired, _) => ("expired", RawValue::from_string(e.payload.clone()?).ok()?),
        (EventKind::Game, _) => ("game", RawValue::from_string(e.payload.clone()?).ok()?),
        (EventKind::Read, _) => ("read", RawValue::from_string(e.payload.clone()?).ok()?),
        (EventKind::Devices, _) => ("devices", RawValue::from_string(e.payload.clone()?).ok()?),
        (EventKind::Message | EventKind::Receipt, None) | (EventKind::Erased, _) => return None,
    };
    Some(Event {
        device: e.device_id.0,
        seq: e.seq,
        kind: kind.into(),
        payload,
    })
}

/// Everything a committed batch publishes: one envelope per user, holding
/// every event of the batch for that user's devices, so that a batch is one
/// bus message per user and one queue item per session however many
/// messages it held.
pub fn batch_envelopes(outcomes: &[Outcome]) -> Vec<(Uuid, Bytes)> {
    let mut by_user: HashMap<UserId, Vec<Event>> = HashMap::new();
    for outcome in outcomes {
        if let Outcome::Sent { notices, .. } = outcome {
            for e in notices {
                if let Some(event) = stream_event(e) {
                    by_user.entry(e.user_id).or_default().push(event);
                }
            }
        }
        match outcome {
            Outcome::Sent {
                message,
                deliveries,
                duplicate: false,
                ..
            } if !deliveries.is_empty() => {
                let payload = raw(&message_event(message));
                for d in deliveries {
                    // A per-device send: each device its own entry.
                    let payload = match &d.entry {
                        Some(entry) => raw(&message_event_for(message, Some(entry))),
                        None => payload.clone(),
                    };
                    by_user.entry(d.user).or_default().push(Event {
                        device: d.device.0,
                        seq: d.seq,
                        kind: "message".into(),
                        payload,
                    });
                }
            }
            Outcome::Acked { receipts, .. } => {
                for r in receipts {
                    if let Some(event) = stream_event(r) {
                        by_user.entry(r.user_id).or_default().push(event);
                    }
                }
            }
            _ => {}
        }
    }
    encode_by_user(by_user)
}

/// Envelopes for stored stream events (one per user), to publish after the
/// transaction that appended them committed.
pub fn stream_envelopes(stored: &[StreamEvent]) -> Vec<(Uuid, Bytes)> {
    let mut by_user: HashMap<UserId, Vec<Event>> = HashMap::new();
    for e in stored {
        if let Some(event) = stream_event(e) {
            by_user.entry(e.user_id).or_default().push(event);
        }
    }
    encode_by_user(by_user)
}

/// Publishes stored stream events; best effort (committed: sessions that
/// miss it catch up from the database).
pub async fn publish_stored(fanout: &passerelle_bus::Fanout, stored: &[StreamEvent]) {
    let items = stream_envelopes(stored);
    if items.is_empty() {
        return;
    }
    if let Err(e) = fanout.publish(items).await {
        tracing::warn!(error = %e, "publish failed after commit");
    }
}

/// One envelope per user, its events in (device, sequence) order.
fn encode_by_user(by_user: HashMap<UserId, Vec<Event>>) -> Vec<(Uuid, Bytes)> {
    by_user
        .into_iter()
        .map(|(user, mut events)| {
            events.sort_by_key(|e| (e.device, e.seq));
            (user.0, Envelope::Events { events }.encode())
        })
        .collect()
}

/// The envelopes carrying `frame` (a whole server frame, outside the
/// stream) to every session of each of `users` but the session `except`.
pub fn ephemeral_envelopes(
    users: &[UserId],
    frame: &passerelle_api_types::ws::ServerFrame,
    except: Option<Uuid>,
) -> Vec<(Uuid, Bytes)> {
    let Ok(frame) = serde_json::value::to_raw_value(frame) else {
        return Vec::new();
    };
    let bytes = Envelope::Ephemeral { frame, except }.encode();
    let mut seen = std::collections::HashSet::new();
    users
        .iter()
        .filter(|u| seen.insert(**u))
        .map(|u| (u.0, bytes.clone()))
        .collect()
}

/// Publishes `frame` to every session of `users`; best effort (live-only
/// frames are not kept anywhere).
pub async fn publish_ephemeral(
    fanout: &passerelle_bus::Fanout,
    users: &[UserId],
    frame: &passerelle_api_types::ws::ServerFrame,
) {
    publish_ephemeral_except(fanout, users, frame, None).await;
}

/// As [`publish_ephemeral`], but not to the session `except` (the one that
/// caused the frame).
pub async fn publish_ephemeral_except(
    fanout: &passerelle_bus::Fanout,
    users: &[UserId],
    frame: &passerelle_api_types::ws::ServerFrame,
    except: Option<Uuid>,
) {
    let items = ephemeral_envelopes(users, frame, except);
    if items.is_empty() {
        return;
    }
    if let Err(e) = fanout.publish(items).await {
        tracing::warn!(error = %e, "could not publish a live frame");
    }
}

/// An order to close sessions of `user` (all of them when `devices` is
/// empty).
pub fn close_envelope(user: UserId, devices: &[Uuid], code: u16, reason: &str) -> (Uuid, Bytes) {
    (
        user.0,
        Envelope::Close {
            devices: devices.to_vec(),
            code,
            reason: reason.to_owned(),
        }
        .encode(),
    )
}

/// Closes the sessions of `devices` of `user` (all when empty) on every
/// node, with `REVOKED`. Best effort on the bus; a node that misses it
/// still refuses the device's next request, and its sessions close at their
/// next resync or token expiry.
pub async fn revoke_sessions(
    fanout: &passerelle_bus::Fanout,
    user: UserId,
    devices: &[Uuid],
    reason: &str,
) {
    let item = close_envelope(
        user,
        devices,
        passerelle_api_types::ws::close::REVOKED,
        reason,
    );
    if let Err(e) = fanout.publish(vec![item]).await {
        tracing::warn!(error = %e, "could not publish a session close order");
    }
}
