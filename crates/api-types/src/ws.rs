//! The WebSocket protocol `passerelle.v1`: every frame both sides send.
//!
//! A frame is one JSON text message `{"type", "id"?, "seq"?, "payload"}`.
//! Clients send [`ClientFrame`]s; the payload type is chosen by `type` and
//! parsed strictly (unknown fields are refused, so no content can be
//! smuggled). The server sends [`ServerFrame`]s; events of a device's durable
//! stream (`message`, `receipt`, `conversation`, `deleted`, `expired`,
//! `game`, `read`, `devices`) carry a per-device `seq`; live-only events (`room`,
//! `typing`, `presence`) carry none.
//! Message frames carry metadata only: no field holds content, ciphertext
//! or keys. The link-room frames' payloads are in `rooms`, the typing
//! frames' in `typing`, the client's presence frame in `presence`, the
//! `unread` frame's (sent once, after `ready`) in `unread`, per-device
//! addressing's (entries, refusals, device-list events) in `devices`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

mod devices;
mod presence;
mod rooms;
mod typing;
mod unread;

pub use devices::{DeviceChange, DeviceEntry, DeviceListEvent, DeviceMismatch, DirectoryDevice};
pub use presence::{SessionPresence, SetPresence};
pub use rooms::{EnterRoom, LeaveRoom, RoomChange, RoomEntered, RoomEvent, RoomLeft};
pub use typing::{Typing, TypingEvent, TypingState};
pub use unread::{Unread, UnreadConversation};

pub use crate::games::GameInviteState;
pub use crate::presence::UserPresence;

/// The one subprotocol the server speaks and echoes.
pub const SUBPROTOCOL: &str = "passerelle.v1";
/// Prefix of the `Sec-WebSocket-Protocol` entry that carries the token.
pub const TOKEN_PREFIX: &str = "bearer.";

/// The envelope of a client frame, before its payload is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEnvelope {
    #[serde(rename = "type")]
    pub kind: String,
    /// Optional correlation id (up to 64 characters), echoed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// What a client may send, by `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    Message(SendMessage),
    Resume(Resume),
    Ack(Ack),
    Auth(Reauth),
    Ping,
    EnterRoom(EnterRoom),
    LeaveRoom(LeaveRoom),
    Typing(Typing),
    Presence(SetPresence),
}

impl ClientFrame {
    /// The `type` names clients may use.
    pub const TYPES: [&'static str; 9] = [
        "message",
        "resume",
        "ack",
        "auth",
        "ping",
        "enter_room",
        "leave_room",
        "typing",
        "presence",
    ];

    /// The frame's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Message(_) => "message",
            Self::Resume(_) => "resume",
            Self::Ack(_) => "ack",
            Self::Auth(_) => "auth",
            Self::Ping => "ping",
            Self::EnterRoom(_) => "enter_room",
            Self::LeaveRoom(_) => "leave_room",
            Self::Typing(_) => "typing",
            Self::Presence(_) => "presence",
        }
    }

    /// Parses a payload for `kind`. Errors name the unknown type or the
    /// offending field.
    pub fn parse(kind: &str, payload: serde_json::Value) -> Result<Self, FrameError> {
        fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, FrameError> {
            let v = if v.is_null() {
                serde_json::json!({})
            } else {
                v
            };
            serde_json::from_value(v).map_err(|e| FrameError::InvalidPayload(e.to_string()))
        }
        Ok(match kind {
            "message" => Self::Message(typed(payload)?),
            "resume" => Self::Resume(typed(payload)?),
            "ack" => Self::Ack(typed(payload)?),
            "auth" => Self::Auth(typed(payload)?),
            "ping" => {
                let _: Empty = typed(payload)?;
                Self::Ping
            }
            "enter_room" => Self::EnterRoom(typed(payload)?),
            "leave_room" => Self::LeaveRoom(typed(payload)?),
            "typing" => Self::Typing(typed(payload)?),
            "presence" => Self::Presence(typed(payload)?),
            other => return Err(FrameError::UnknownType(other.chars().take(64).collect())),
        })
    }

    /// The payload as JSON (for clients building frames).
    pub fn payload(&self) -> serde_json::Value {
        let v = match self {
            Self::Message(m) => serde_json::to_value(m),
            Self::Resume(r) => serde_json::to_value(r),
            Self::Ack(a) => serde_json::to_value(a),
            Self::Auth(a) => serde_json::to_value(a),
            Self::Ping => Ok(serde_json::json!({})),
            Self::EnterRoom(r) => serde_json::to_value(r),
            Self::LeaveRoom(r) => serde_json::to_value(r),
            Self::Typing(t) => serde_json::to_value(t),
            Self::Presence(p) => serde_json::to_value(p),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// Why a client frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    UnknownType(String),
    InvalidPayload(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// The kinds of message a client may send. Unknown kinds are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    Text,
    Image,
    Video,
    Audio,
    File,
    Sticker,
    Location,
    GameInvite,
    Call,
    System,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
            Self::Sticker => "sticker",
            Self::Location => "location",
            Self::GameInvite => "game_invite",
            Self::Call => "call",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// `message`: send a message's metadata. The ciphertext itself is in the blob
/// store; `blobId` points at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMessage {
    /// Chosen by the sender (a UUID); the idempotency key: resending the same
    /// id returns the same `sent` and delivers nothing twice.
    pub message_id: Uuid,
    /// The user a direct message is for (the pair's direct conversation is
    /// created on the first message). Exactly one of `recipientId` and
    /// `conversationId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
    /// The conversation (direct, group or link room) the message is for;
    /// every member gets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Uuid>,
    /// The sender's clock when the message was composed.
    pub timestamp: DateTime<Utc>,
    /// The opaque end-to-end session id of the sender's encryption session
    /// (up to 128 characters). The gateway only stores and forwards it.
    pub session_id: String,
    pub message_type: MessageType,
    /// The `messageId` this message replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    /// Reference of the ciphertext in the blob store (up to 128 characters
    /// of `[A-Za-z0-9._-]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    /// The game a `game_invite` invites to (1 to 64 characters of
    /// `[A-Za-z0-9._-]`): required for `game_invite`, refused on any other
    /// type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// A per-device send: one entry for every active device of the
    /// recipients and for each of the sender's other devices (at most 1000,
    /// one per device). Checked against the directory when stored: a
    /// mismatch is refused with `device_mismatch` and stores nothing; a
    /// match delivers each device only its own entry. May go with `blobId`
    /// (one blob for all, e.g. a group's sender-key message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_entries: Option<Vec<DeviceEntry>>,
}

/// `resume`: start (or restart) the device's stream after `after`. Without
/// `after`, from the device's last acknowledged sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resume {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

/// `ack`: every event up to `seq` is processed; the server may trim them and
/// tells senders their messages were delivered to this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ack {
    pub seq: u64,
}

/// `auth`: hand over a fresh access token before the current one expires.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reauth {
    pub access_token: String,
}

impl std::fmt::Debug for Reauth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reauth(<redacted>)")
    }
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of every session.
    Ready { payload: Ready },
    /// Second frame of every session, right after `ready`: the unread
    /// counts of the user's most recently active conversations.
    Unread { payload: Unread },
    /// A durable stream event: a message for (or from) this user.
    Message { seq: u64, payload: MessageEvent },
    /// A durable stream event: one recipient device acknowledged a message
    /// this user sent.
    Receipt { seq: u64, payload: ReceiptEvent },
    /// A durable stream event: a conversation of this user changed
    /// (created, members joined, left, were invited, added or removed,
    /// roles, settings, join link).
    Conversation {
        seq: u64,
        payload: ConversationEvent,
    },
    /// A durable stream event: a message is gone (its sender retracted it);
    /// clients drop it. Its earlier events are gone from the stream too.
    Deleted { seq: u64, payload: MessageDeleted },
    /// A durable stream event: messages of a conversation reached the
    /// expiry their timer gave them and were deleted; clients drop them.
    Expired { seq: u64, payload: MessagesExpired },
    /// A durable stream event: a game invitation of this user (sent or
    /// received) was accepted, declined, cancelled or expired.
    Game { seq: u64, payload: GameEvent },
    /// A durable stream event: a member moved their read marker (this user
    /// on another device, or the peer of a direct conversation).
    Read { seq: u64, payload: ReadEvent },
    /// A durable stream event: the device list of this user (another
    /// device), of someone they share a conversation with, or of a contact
    /// changed.
    Devices { seq: u64, payload: DeviceListEvent },
    /// Reply to `message`: stored durably and fanned out.
    Sent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: Sent,
    },
    /// Replay after `resume` is complete; live events follow.
    Synced {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: Synced,
    },
    /// Events the client asked for were removed by retention.
    Truncated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: Truncated,
    },
    /// Reply to `auth`.
    Authenticated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: Authenticated,
    },
    /// Reply to `ping`.
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: Pong,
    },
    /// Reply to `enter_room`: the session is in the room.
    RoomEntered {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: RoomEntered,
    },
    /// Reply to `leave_room`: the session is out of the room.
    RoomLeft {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: RoomLeft,
    },
    /// A live event, not in the stream (no `seq`, never replayed): someone
    /// joined or left a link room the user is in.
    Room { payload: RoomEvent },
    /// A live event, not in the stream (no `seq`, never replayed): a member
    /// of one of the user's conversations (or another session of the user)
    /// started or stopped typing.
    Typing { payload: TypingEvent },
    /// A live event, not in the stream (no `seq`, never replayed): the
    /// presence of a user the caller watches (has as a contact) changed, or
    /// what the caller may see of it did.
    Presence { payload: UserPresence },
    /// A frame was refused; the session stays open unless a close follows.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        payload: FrameErrorBody,
    },
}

impl ServerFrame {
    /// The stream sequence, for stream events.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Message { seq, .. }
            | Self::Receipt { seq, .. }
            | Self::Conversation { seq, .. }
            | Self::Deleted { seq, .. }
            | Self::Expired { seq, .. }
            | Self::Game { seq, .. }
            | Self::Read { seq, .. }
            | Self::Devices { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ready {
    pub user_id: Uuid,
    pub device_id: Uuid,
    /// This connection's id (for support and logs).
    pub connection_id: Uuid,
    /// Sequence of the newest event in the device's stream.
    pub last_seq: u64,
    /// The device's acknowledged sequence.
    pub acked_seq: u64,
    /// The server pings this often; a session silent for three intervals is
    /// closed.
    pub heartbeat_secs: u64,
    /// When the access token expires; send `auth` before.
    pub token_expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent {
    pub message_id: Uuid,
    /// The server's id of the stored message (time-ordered).
    pub server_id: Uuid,
    pub sender_id: Uuid,
    pub sender_device_id: Uuid,
    /// The conversation it belongs to (for a direct message, the pair's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Uuid>,
    /// Set on direct messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
    pub message_type: MessageType,
    pub session_id: String,
    /// The sender's clock.
    pub timestamp: DateTime<Utc>,
    /// When the server stored it.
    pub server_timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    /// When the message disappears (its conversation had a timer when it
    /// was sent): clients delete it then; the server deletes its metadata
    /// and sends `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// `game_invite` messages: the game invited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// A per-device message: the entry addressed to this device (absent on
    /// the sending device's own copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub device_entry: Option<DeviceEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Delivered,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEvent {
    pub message_id: Uuid,
    /// The recipient whose device acknowledged.
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub status: ReceiptStatus,
    pub at: DateTime<Utc>,
}

/// Why a message is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeletionReason {
    /// Its sender retracted it.
    Retracted,
}

/// A message was deleted: drop it (and its blob reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageDeleted {
    pub conversation_id: Uuid,
    /// The sender's `messageId`.
    pub message_id: Uuid,
    pub reason: DeletionReason,
    pub at: DateTime<Utc>,
}

/// A member marked a conversation read up to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadEvent {
    pub conversation_id: Uuid,
    /// Who read.
    pub user_id: Uuid,
    /// The server id (`serverId`) of the newest message read.
    pub up_to: Uuid,
    pub at: DateTime<Utc>,
}

/// Disappearing messages that expired and were deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagesExpired {
    pub conversation_id: Uuid,
    /// The senders' `messageId`s, oldest expiry first.
    pub message_ids: Vec<Uuid>,
    /// When the server deleted them.
    pub at: DateTime<Utc>,
}

/// What changed in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationChange {
    /// The conversation was created (`actorId`: its creator).
    Created,
    /// `userId` became a member by accepting an invitation, joining a
    /// public group or using a join link.
    MemberJoined,
    /// `actorId` added `userId` (add policy `direct`).
    MemberAdded,
    /// `actorId` invited `userId`.
    MemberInvited,
    /// `userId` declined `actorId`'s invitation.
    InviteDeclined,
    /// `userId` left.
    MemberLeft,
    /// `actorId` removed `userId`.
    MemberRemoved,
    /// `actorId` (the owner) gave `userId` the role `role`.
    RoleChanged,
    /// `actorId` handed ownership to `userId`; `actorId` is now an admin.
    OwnerTransferred,
    /// `actorId` changed the title, visibility, add policy or member cap.
    Updated,
    /// `actorId` created, replaced or revoked the join link (the token is
    /// never in the event).
    JoinLinkChanged,
    /// `actorId` set the disappearing-message timer to `disappearSecs`
    /// (absent: turned off). Messages sent from now on expire after it.
    TimerChanged,
    /// A new direct conversation from `userId` is a message request to you
    /// (your `messagePolicy` is `contacts` and they are not a contact).
    RequestReceived,
    /// `actorId` accepted `userId`'s message request (explicitly, by
    /// sending a message, or by adding them as a contact): an ordinary
    /// conversation now.
    RequestAccepted,
    /// `actorId` declined `userId`'s message request; `userId`'s later
    /// messages are withheld from them.
    RequestDeclined,
}

/// A membership or settings change of a conversation. Re-read the
/// conversation (`GET /v1/conversations/{id}`) for its new state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationEvent {
    pub conversation_id: Uuid,
    pub change: ConversationChange,
    /// The member (or invitee) the change is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// Who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// `userId`'s role after the change, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<crate::conversations::MemberRole>,
    /// `timer_changed`: the new timer in seconds (absent: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub disappear_secs: Option<u32>,
    /// When the change was made.
    pub at: DateTime<Utc>,
}

/// A game invitation changed state. Read `GET /v1/game-invites/{messageId}`
/// for the whole invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GameEvent {
    /// The direct conversation of the `game_invite` message.
    pub conversation_id: Uuid,
    /// The inviter's `messageId` of the `game_invite` message.
    pub message_id: Uuid,
    pub game_id: String,
    /// The new state: `accepted`, `declined`, `cancelled` or `expired`.
    pub state: GameInviteState,
    /// Who changed it (the invitee for `accepted` and `declined`, the
    /// inviter for `cancelled`); absent for `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub message_id: Uuid,
    pub server_id: Uuid,
    pub server_timestamp: DateTime<Utc>,
    /// The message's sequence in the sending device's own stream (the copy
    /// its other sessions receive).
    pub seq: u64,
    /// True when this `messageId` had already been stored: nothing new was
    /// delivered.
    pub duplicate: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Synced {
    /// The sequence the replay ended at; live events continue after it.
    pub last_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Truncated {
    /// Where the client asked to resume from.
    pub requested_after: u64,
    /// The oldest sequence still retained; events between are gone.
    pub oldest_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authenticated {
    pub token_expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pong {}

/// Stable error codes of the WebSocket protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameErrorCode {
    /// Not a JSON object of the envelope's shape.
    InvalidFrame,
    /// `type` names no client frame.
    UnknownType,
    /// The payload has an unknown, missing or mistyped field.
    InvalidPayload,
    /// A value breaks a rule (e.g. `sessionId` too long).
    ValidationFailed,
    /// The recipient (or replied-to message, or room) does not exist for
    /// the sender.
    NotFound,
    /// The sender may not do this (a full room, too many rooms in one
    /// session).
    Forbidden,
    /// The `messageId` belongs to another sender's message.
    MessageIdTaken,
    /// Too many frames; slow down. Repeated abuse closes the session (1008).
    RateLimited,
    /// The token handed over by `auth` was refused.
    Unauthorized,
    /// A per-device `message` does not match the device directory;
    /// `mismatch` lists the missing, extra and stale devices.
    DeviceMismatch,
    /// Storage is unavailable; retry the same frame later.
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrameErrorBody {
    pub code: FrameErrorCode,
    pub message: String,
    /// `device_mismatch` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub mismatch: Option<DeviceMismatch>,
}

/// Close codes the server uses.
pub mod close {
    /// The server is shutting down: reconnect (to any node) and resume.
    pub const RESTART: u16 = 1012;
    /// Repeated protocol abuse (e.g. ignoring rate limits).
    pub const POLICY: u16 = 1008;
    /// A frame over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// An unexpected server error.
    pub const INTERNAL: u16 = 1011;
    /// No frame or pong for three heartbeat intervals.
    pub const HEARTBEAT_TIMEOUT: u16 = 4000;
    /// The access token expired and no fresh one was handed over.
    pub const TOKEN_EXPIRED: u16 = 4001;
    /// The device was revoked, logged out, or the account deleted.
    pub const REVOKED: u16 = 4003;
    /// The session could not keep up with its events: reconnect and resume;
    /// nothing is lost.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// The connection's device already has the most sessions allowed.
    pub const TOO_MANY_SESSIONS: u16 = 4029;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_message_frame_parses_as_is() {
        let raw = r#"{"type":"message","payload":{"messageId":"6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f","recipientId":"0f1e2d3c-4b5a-4697-8877-665544332211","timestamp":"2024-01-01T00:00:00Z","sessionId":"abc","messageType":"text"}}"#;
        let env: ClientEnvelope = serde_json::from_str(raw).expect("envelope");
        let frame = ClientFrame::parse(&env.kind, env.payload).expect("frame");
        let ClientFrame::Message(m) = frame else {
            panic!("not a message");
        };
        assert_eq!(m.message_type, MessageType::Text);
        assert_eq!(m.session_id, "abc");
    }

    #[test]
    fn unknown_fields_and_types_are_named() {
        let err = ClientFrame::parse("message", serde_json::json!({"messageId": "6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f", "timestamp": "2024-01-01T00:00:00Z", "sessionId": "s", "messageType": "text", "content": "hi"}))
            .expect_err("content refused");
        assert!(
            matches!(&err, FrameError::InvalidPayload(m) if m.contains("content")),
            "{err:?}"
        );
        assert_eq!(
            ClientFrame::parse("shout", serde_json::json!({})),
            Err(FrameError::UnknownType("shout".into()))
        );
        assert!(ClientFrame::parse("message", serde_json::json!({"messageId": "6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f", "timestamp": "2024-01-01T00:00:00Z", "sessionId": "s", "messageType": "poem"})).is_err());
        assert!(
            serde_json::from_str::<ClientEnvelope>(r#"{"type":"ping","payload":{},"extra":1}"#)
                .is_err()
        );
    }

    #[test]
    fn conversation_events_have_the_documented_shape() {
        let f = ServerFrame::Conversation {
            seq: 9,
            payload: ConversationEvent {
                conversation_id: Uuid::nil(),
                change: ConversationChange::RoleChanged,
                user_id: Some(Uuid::nil()),
                actor_id: None,
                role: Some(crate::conversations::MemberRole::Admin),
                disappear_secs: None,
                at: DateTime::from_timestamp(0, 0).expect("time"),
            },
        };
        assert_eq!(f.seq(), Some(9));
        assert_eq!(
            serde_json::to_value(&f).expect("json"),
            serde_json::json!({"type": "conversation", "seq": 9, "payload": {
                "conversationId": Uuid::nil(), "change": "role_changed",
                "userId": Uuid::nil(), "role": "admin",
                "at": "1970-01-01T00:00:00Z"}})
        );
    }

    #[test]
    fn server_frames_have_the_documented_shape() {
        let f = ServerFrame::Synced {
            id: None,
            payload: Synced { last_seq: 7 },
        };
        assert_eq!(
            serde_json::to_value(&f).expect("json"),
            serde_json::json!({"type": "synced", "payload": {"lastSeq": 7}})
        );
    }
}
