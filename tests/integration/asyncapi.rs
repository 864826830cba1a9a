//! The AsyncAPI document `openapi/asyncapi.yaml` (and the frame, error and
//! close code lists of `docs/protocol.md`) checked against the code of the
//! protocol, `passerelle_api_types::ws`: frame type names both ways, where
//! frames carry `id` and `seq`, every payload's properties, required fields,
//! formats and strictness (against the utoipa schemas generated from the
//! Rust types), the enums, the close codes, the subprotocol, and every
//! example. Adding a frame variant or an enum variant does not compile here
//! until this file (and so the document) is updated.
//!
//! No server is started: these tests read files and types only.

use std::collections::{BTreeMap, BTreeSet};

use passerelle_api_types::ws::{
    Ack, Authenticated, ClientEnvelope, ClientFrame, ConversationChange, ConversationEvent,
    DeletionReason, DeviceChange, DeviceEntry, DeviceListEvent, DeviceMismatch, DirectoryDevice,
    EnterRoom, FrameError, FrameErrorBody, FrameErrorCode, GameEvent, LeaveRoom, MessageDeleted,
    MessageEvent, MessageType, MessagesExpired, Pong, ReadEvent, Ready, Reauth, ReceiptEvent,
    ReceiptStatus, Resume, RoomChange, RoomEntered, RoomEvent, RoomLeft, SUBPROTOCOL, SendMessage,
    Sent, ServerFrame, SessionPresence, SetPresence, Synced, TOKEN_PREFIX, Truncated, Typing,
    TypingEvent, TypingState, Unread, UnreadConversation, UserPresence, close,
};
use passerelle_api_types::{GameInviteState, MemberRole, PresenceStatus};
use serde_json::{Value, json};
use utoipa::{OpenApi, PartialSchema};
use uuid::Uuid;

const ASYNCAPI: &str = include_str!("../../openapi/asyncapi.yaml");
const PROTOCOL_MD: &str = include_str!("../../docs/protocol.md");
/// The source of the protocol types, read for the `close` module's constants.
const WS_RS: &str = include_str!("../../crates/api-types/src/ws.rs");

fn doc() -> Value {
    serde_norway::from_str(ASYNCAPI).expect("openapi/asyncapi.yaml is valid YAML")
}

/// Follows `$ref`s (local JSON pointers) until a value without one.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local references: {r}"));
        v = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling reference {r}"));
    }
    panic!("reference loop at {v}")
}

fn keys(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn strings(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The frame schemas of an operation's messages, by frame `type`, checking
/// that each message's `name` is its frame type.
fn frames_of<'a>(doc: &'a Value, operation: &str) -> BTreeMap<String, &'a Value> {
    let messages = doc["operations"][operation]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("operations.{operation}.messages"));
    let mut out = BTreeMap::new();
    for m in messages {
        let message = resolve(doc, m);
        let frame = resolve(doc, &message["payload"]);
        let kind = frame["properties"]["type"]["const"]
            .as_str()
            .unwrap_or_else(|| panic!("{operation}: a frame without a `type` const: {frame}"));
        assert_eq!(
            message["name"], kind,
            "{operation}: message name is the frame type"
        );
        assert!(
            out.insert(kind.to_owned(), frame).is_none(),
            "{operation}: `{kind}` twice"
        );
    }
    out
}

/// Name and utoipa schema of a payload type, inferred from a value of it.
fn schema_of<T: PartialSchema>(_: &T) -> (String, Value) {
    let name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .expect("a type name")
        .to_owned();
    let schema = serde_json::to_value(T::schema()).expect("schema as JSON");
    (name, schema)
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_740_821_400, 0).expect("a time")
}

// ---- every frame of the code, with exhaustive matches ---------------------

fn every_client_frame() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Message(SendMessage {
            device_entries: None,
            message_id: uuid(1),
            recipient_id: Some(uuid(2)),
            conversation_id: None,
            timestamp: at(),
            session_id: "s".into(),
            message_type: MessageType::Text,
            reply_to: None,
            blob_id: None,
            game_id: None,
        }),
        ClientFrame::Message(SendMessage {
            device_entries: Some(vec![DeviceEntry {
                device_id: uuid(8),
                registration_id: 4242,
                blob_id: "bdevice8".into(),
            }]),
            message_id: uuid(3),
            recipient_id: None,
            conversation_id: Some(uuid(4)),
            timestamp: at(),
            session_id: "s".into(),
            message_type: MessageType::Image,
            reply_to: Some(uuid(1)),
            blob_id: Some("b".into()),
            game_id: None,
        }),
        ClientFrame::Resume(Resume { after: Some(1) }),
        ClientFrame::Ack(Ack { seq: 1 }),
        ClientFrame::Auth(Reauth {
            access_token: "t".into(),
        }),
        ClientFrame::Ping,
        ClientFrame::EnterRoom(EnterRoom { link: uuid(8) }),
        ClientFrame::LeaveRoom(LeaveRoom {
            conversation_id: uuid(9),
        }),
        ClientFrame::Typing(Typing {
            conversation_id: uuid(7),
            state: TypingState::Started,
        }),
        ClientFrame::Presence(SetPresence {
            status: SessionPresence::Away,
        }),
    ]
}

/// The variant's position (to prove every variant was built) and its
/// payload's type name and schema. No wildcard arm: a new variant does not
/// compile until it is described here.
fn client_variant(f: &ClientFrame) -> (usize, Option<(String, Value)>) {
    match f {
        ClientFrame::Message(p) => (0, Some(schema_of(p))),
        ClientFrame::Resume(p) => (1, Some(schema_of(p))),
        ClientFrame::Ack(p) => (2, Some(schema_of(p))),
        ClientFrame::Auth(p) => (3, Some(schema_of(p))),
        ClientFrame::Ping => (4, None),
        ClientFrame::EnterRoom(p) => (5, Some(schema_of(p))),
        ClientFrame::LeaveRoom(p) => (6, Some(schema_of(p))),
        ClientFrame::Typing(p) => (7, Some(schema_of(p))),
        ClientFrame::Presence(p) => (8, Some(schema_of(p))),
    }
}
const CLIENT_VARIANTS: usize = 9;

fn every_server_frame(id: Option<&str>) -> Vec<ServerFrame> {
    let id = id.map(str::to_owned);
    vec![
        ServerFrame::Ready {
            payload: Ready {
                user_id: uuid(1),
                device_id: uuid(2),
                connection_id: uuid(3),
                last_seq: 4,
                acked_seq: 3,
                heartbeat_secs: 15,
                token_expires_at: at(),
            },
        },
        ServerFrame::Unread {
            payload: Unread {
                conversations: vec![UnreadConversation {
                    conversation_id: uuid(7),
                    unread_count: 3,
                    unread_capped: false,
                    read_up_to: Some(uuid(5)),
                }],
                more: false,
            },
        },
        ServerFrame::Message {
            seq: 4,
            payload: MessageEvent {
                device_entry: None,
                message_id: uuid(4),
                server_id: uuid(5),
                sender_id: uuid(1),
                sender_device_id: uuid(2),
                conversation_id: Some(uuid(7)),
                recipient_id: Some(uuid(6)),
                message_type: MessageType::Text,
                session_id: "s".into(),
                timestamp: at(),
                server_timestamp: at(),
                reply_to: None,
                blob_id: None,
                expires_at: Some(at()),
                game_id: None,
            },
        },
        ServerFrame::Receipt {
            seq: 5,
            payload: ReceiptEvent {
                message_id: uuid(4),
                user_id: uuid(6),
                device_id: uuid(7),
                status: ReceiptStatus::Delivered,
                at: at(),
            },
        },
        ServerFrame::Conversation {
            seq: 6,
            payload: ConversationEvent {
                conversation_id: uuid(7),
                change: ConversationChange::RoleChanged,
                user_id: Some(uuid(6)),
                actor_id: Some(uuid(1)),
                role: Some(MemberRole::Admin),
                disappear_secs: Some(30),
                at: at(),
            },
        },
        ServerFrame::Deleted {
            seq: 7,
            payload: MessageDeleted {
                conversation_id: uuid(7),
                message_id: uuid(4),
                reason: DeletionReason::Retracted,
                at: at(),
            },
        },
        ServerFrame::Expired {
            seq: 8,
            payload: MessagesExpired {
                conversation_id: uuid(7),
                message_ids: vec![uuid(4)],
                at: at(),
            },
        },
        ServerFrame::Game {
            seq: 9,
            payload: GameEvent {
                conversation_id: uuid(7),
                message_id: uuid(4),
                game_id: "chess".into(),
                state: GameInviteState::Accepted,
                actor_id: Some(uuid(6)),
                at: at(),
            },
        },
        ServerFrame::Read {
            seq: 10,
            payload: ReadEvent {
                conversation_id: uuid(7),
                user_id: uuid(6),
                up_to: uuid(5),
                at: at(),
            },
        },
        ServerFrame::Devices {
            seq: 11,
            payload: DeviceListEvent {
                user_id: uuid(6),
                device_id: uuid(8),
                change: DeviceChange::Reregistered,
                registration_id: Some(4242),
                at: at(),
            },
        },
        ServerFrame::Error {
            id: id.clone(),
            payload: FrameErrorBody {
                code: FrameErrorCode::DeviceMismatch,
                message: "m".into(),
                mismatch: Some(DeviceMismatch {
                    missing: vec![DirectoryDevice {
                        user_id: uuid(6),
                        device_id: uuid(8),
                        registration_id: 4242,
                    }],
                    extra: vec![uuid(9)],
                    stale: Vec::new(),
                }),
            },
        },
        ServerFrame::Sent {
            id: id.clone(),
            payload: Sent {
                message_id: uuid(4),
                server_id: uuid(5),
                server_timestamp: at(),
                seq: 4,
                duplicate: false,
            },
        },
        ServerFrame::Synced {
            id: id.clone(),
            payload: Synced { last_seq: 4 },
        },
        ServerFrame::Truncated {
            id: id.clone(),
            payload: Truncated {
                requested_after: 0,
                oldest_seq: 3,
            },
        },
        ServerFrame::Authenticated {
            id: id.clone(),
            payload: Authenticated {
                token_expires_at: at(),
            },
        },
        ServerFrame::Pong {
            id: id.clone(),
            payload: Pong {},
        },
        ServerFrame::RoomEntered {
            id: id.clone(),
            payload: RoomEntered {
                conversation_id: uuid(9),
                participants: vec![uuid(1), uuid(6)],
                at: at(),
            },
        },
        ServerFrame::RoomLeft {
            id: id.clone(),
            payload: RoomLeft {
                conversation_id: uuid(9),
                closed: true,
                at: at(),
            },
        },
        ServerFrame::Room {
            payload: RoomEvent {
                conversation_id: uuid(9),
                change: RoomChange::Joined,
                user_id: uuid(6),
                at: at(),
            },
        },
        ServerFrame::Typing {
            payload: TypingEvent {
                conversation_id: uuid(7),
                user_id: uuid(6),
                device_id: uuid(2),
                state: TypingState::Started,
                expires_in_ms: Some(6000),
                at: at(),
            },
        },
        ServerFrame::Presence {
            payload: UserPresence {
                user_id: uuid(6),
                status: PresenceStatus::Offline,
                last_seen_at: Some(at()),
                version: 7,
            },
        },
        ServerFrame::Error {
            id,
            payload: FrameErrorBody {
                mismatch: None,
                code: FrameErrorCode::Internal,
                message: "m".into(),
            },
        },
    ]
}

/// As [`client_variant`], for server frames.
fn server_variant(f: &ServerFrame) -> (usize, (String, Value)) {
    match f {
        ServerFrame::Ready { payload } => (0, schema_of(payload)),
        ServerFrame::Message { payload, .. } => (1, schema_of(payload)),
        ServerFrame::Receipt { payload, .. } => (2, schema_of(payload)),
        ServerFrame::Conversation { payload, .. } => (3, schema_of(payload)),
        ServerFrame::Sent { payload, .. } => (4, schema_of(payload)),
        ServerFrame::Synced { payload, .. } => (5, schema_of(payload)),
        ServerFrame::Truncated { payload, .. } => (6, schema_of(payload)),
        ServerFrame::Authenticated { payload, .. } => (7, schema_of(payload)),
        ServerFrame::Pong { payload, .. } => (8, schema_of(payload)),
        ServerFrame::Error { payload, .. } => (9, schema_of(payload)),
        ServerFrame::Deleted { payload, .. } => (10, schema_of(payload)),
        ServerFrame::Expired { payload, .. } => (11, schema_of(payload)),
        ServerFrame::RoomEntered { payload, .. } => (12, schema_of(payload)),
        ServerFrame::RoomLeft { payload, .. } => (13, schema_of(payload)),
        ServerFrame::Room { payload } => (14, schema_of(payload)),
        ServerFrame::Game { payload, .. } => (15, schema_of(payload)),
        ServerFrame::Typing { payload } => (16, schema_of(payload)),
        ServerFrame::Read { payload, .. } => (17, schema_of(payload)),
        ServerFrame::Presence { payload } => (18, schema_of(payload)),
        ServerFrame::Unread { payload } => (19, schema_of(payload)),
        ServerFrame::Devices { payload, .. } => (20, schema_of(payload)),
    }
}
const SERVER_VARIANTS: usize = 21;

fn frame_type(f: &ServerFrame) -> String {
    serde_json::to_value(f).expect("frame as JSON")["type"]
        .as_str()
        .expect("a type")
        .to_owned()
}

// ---- frame types ------------------------------------------------------------

#[test]
fn client_frame_types_are_the_codes() {
    let doc = doc();
    let documented: BTreeSet<String> = frames_of(&doc, "sendToServer").into_keys().collect();
    let code: BTreeSet<String> = ClientFrame::TYPES.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(code.len(), ClientFrame::TYPES.len(), "TYPES has no repeats");
    assert_eq!(
        documented, code,
        "sendToServer messages vs ClientFrame::TYPES"
    );

    let frames = every_client_frame();
    let seen: BTreeSet<usize> = frames.iter().map(|f| client_variant(f).0).collect();
    assert_eq!(seen, (0..CLIENT_VARIANTS).collect(), "one of each variant");
    let kinds: BTreeSet<String> = frames.iter().map(|f| f.kind().to_owned()).collect();
    assert_eq!(kinds, code, "ClientFrame::kind() vs ClientFrame::TYPES");
}

#[test]
fn server_frame_types_are_what_server_frame_serialises_to() {
    let doc = doc();
    let documented: BTreeSet<String> = frames_of(&doc, "receiveFromServer").into_keys().collect();
    let frames = every_server_frame(None);
    let seen: BTreeSet<usize> = frames.iter().map(|f| server_variant(f).0).collect();
    assert_eq!(seen, (0..SERVER_VARIANTS).collect(), "one of each variant");
    let code: BTreeSet<String> = frames.iter().map(frame_type).collect();
    assert_eq!(code.len(), SERVER_VARIANTS, "distinct type names");
    assert_eq!(
        documented, code,
        "receiveFromServer messages vs ServerFrame"
    );
}

/// Client frames: the envelope is strict, `id` is allowed on every frame,
/// and `payload` may be left out only where an empty payload parses.
#[test]
fn client_frame_envelopes_match_client_envelope() {
    let doc = doc();
    for (kind, frame) in frames_of(&doc, "sendToServer") {
        assert_eq!(
            keys(frame.get("properties")),
            ["id", "payload", "type"].map(String::from).into(),
            "{kind}: the fields of ClientEnvelope"
        );
        assert_eq!(
            frame.get("additionalProperties"),
            Some(&Value::Bool(false)),
            "{kind}: the envelope refuses unknown fields"
        );
        let parses_without_payload = ClientFrame::parse(&kind, Value::Null).is_ok();
        let mut required = BTreeSet::from(["type".to_owned()]);
        if !parses_without_payload {
            required.insert("payload".into());
        }
        assert_eq!(
            strings(frame.get("required")),
            required,
            "{kind}: required fields"
        );
        // The envelope really is this strict.
        let extra = json!({"type": kind, "payload": {}, "extra": 1});
        assert!(serde_json::from_value::<ClientEnvelope>(extra).is_err());
    }
}

/// Server frames: `id` where the variant has one, `seq` on stream events.
#[test]
fn server_frame_envelopes_match_what_is_sent() {
    let doc = doc();
    let documented = frames_of(&doc, "receiveFromServer");
    let with_id = every_server_frame(Some("x"));
    let without_id = every_server_frame(None);
    for (full, bare) in with_id.iter().zip(&without_id) {
        let kind = frame_type(full);
        let frame = documented[&kind];
        let all = keys(Some(&serde_json::to_value(full).expect("json")));
        let always = keys(Some(&serde_json::to_value(bare).expect("json")));
        assert_eq!(keys(frame.get("properties")), all, "{kind}: frame fields");
        assert_eq!(
            strings(frame.get("required")),
            always,
            "{kind}: required frame fields"
        );
        if all.contains("seq") {
            assert!(full.seq().is_some(), "{kind}: seq() agrees");
            let seq = resolve(&doc, &frame["properties"]["seq"]);
            assert_eq!(seq["type"], "integer", "{kind}: seq is an integer");
        }
    }
}

// ---- payload schemas --------------------------------------------------------

/// The non-null JSON types of a property (`"string"` or `["string", "null"]`).
fn types(p: &Value) -> BTreeSet<String> {
    match p.get("type") {
        Some(Value::String(s)) => BTreeSet::from([s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The documented schema `name` against the utoipa schema of the Rust type.
fn assert_schema_matches(doc: &Value, name: &str, code: &Value) {
    let documented = &doc["components"]["schemas"][name];
    assert!(
        documented.is_object(),
        "components.schemas.{name} is missing"
    );
    assert_eq!(
        keys(documented.get("properties")),
        keys(code.get("properties")),
        "{name}: property names"
    );
    assert_eq!(
        strings(documented.get("required")),
        strings(code.get("required")),
        "{name}: required properties"
    );
    assert_eq!(
        documented.get("additionalProperties"),
        code.get("additionalProperties"),
        "{name}: additionalProperties (false exactly for deny_unknown_fields)"
    );
    for (prop, theirs) in code
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let ours = &documented["properties"][prop];
        assert_eq!(
            ours.get("$ref"),
            theirs.get("$ref"),
            "{name}.{prop}: reference"
        );
        assert_eq!(
            ours.get("format"),
            theirs.get("format"),
            "{name}.{prop}: format"
        );
        assert_eq!(types(ours), types(theirs), "{name}.{prop}: type");
    }
}

#[test]
fn client_payloads_match_the_rust_types() {
    let doc = doc();
    let documented = frames_of(&doc, "sendToServer");
    for frame in every_client_frame() {
        let payload_ref = documented[frame.kind()]["properties"]["payload"].get("$ref");
        match client_variant(&frame).1 {
            Some((name, schema)) => {
                assert_eq!(
                    payload_ref,
                    Some(&Value::String(format!("#/components/schemas/{name}"))),
                    "{}: payload is {name}",
                    frame.kind()
                );
                assert_schema_matches(&doc, &name, &schema);
                assert_eq!(
                    schema.get("additionalProperties"),
                    Some(&Value::Bool(false)),
                    "{name}: client payloads refuse unknown fields"
                );
            }
            None => {
                // `ping`: no payload type; only an empty object (or nothing).
                let p = &documented[frame.kind()]["properties"]["payload"];
                assert_eq!(p["maxProperties"], 0, "ping payload is empty");
                assert!(ClientFrame::parse("ping", json!({})).is_ok());
                assert!(ClientFrame::parse("ping", json!({"a": 1})).is_err());
            }
        }
    }
}

#[test]
fn server_payloads_match_the_rust_types() {
    let doc = doc();
    let documented = frames_of(&doc, "receiveFromServer");
    for frame in every_server_frame(None) {
        let kind = frame_type(&frame);
        let (_, (name, schema)) = server_variant(&frame);
        assert_eq!(
            documented[&kind]["properties"]["payload"].get("$ref"),
            Some(&Value::String(format!("#/components/schemas/{name}"))),
            "{kind}: payload is {name}"
        );
        assert_schema_matches(&doc, &name, &schema);
    }
    // Objects inside payloads are documented too.
    let item = UnreadConversation {
        conversation_id: uuid(7),
        unread_count: 1,
        unread_capped: false,
        read_up_to: None,
    };
    let (name, schema) = schema_of(&item);
    assert_schema_matches(&doc, &name, &schema);
}

// ---- enums ------------------------------------------------------------------

fn serde_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .expect("json")
        .as_str()
        .expect("a unit variant")
        .to_owned()
}

/// The documented enum, the utoipa enum and the serde names of `all` agree.
fn assert_enum<T: serde::Serialize + PartialSchema>(doc: &Value, name: &str, all: &[T]) {
    let documented: Vec<String> = doc["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components.schemas.{name}.enum"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect();
    let serde: Vec<String> = all.iter().map(serde_name).collect();
    let utoipa: Vec<String> = serde_json::to_value(T::schema()).expect("json")["enum"]
        .as_array()
        .expect("utoipa enum")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect();
    assert_eq!(documented, serde, "{name}: documented vs serde names");
    assert_eq!(utoipa, serde, "{name}: utoipa vs serde names");
}

#[test]
fn enums_list_every_variant() {
    let doc = doc();

    let message_types = [
        MessageType::Text,
        MessageType::Image,
        MessageType::Video,
        MessageType::Audio,
        MessageType::File,
        MessageType::Sticker,
        MessageType::Location,
        MessageType::GameInvite,
        MessageType::Call,
        MessageType::System,
    ];
    let index = |t: &MessageType| match t {
        MessageType::Text => 0,
        MessageType::Image => 1,
        MessageType::Video => 2,
        MessageType::Audio => 3,
        MessageType::File => 4,
        MessageType::Sticker => 5,
        MessageType::Location => 6,
        MessageType::GameInvite => 7,
        MessageType::Call => 8,
        MessageType::System => 9,
    };
    assert_eq!(
        message_types.iter().map(index).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    for t in message_types {
        assert_eq!(t.as_str(), serde_name(&t), "MessageType::as_str");
    }
    assert_enum(&doc, "MessageType", &message_types);

    let codes = [
        FrameErrorCode::InvalidFrame,
        FrameErrorCode::UnknownType,
        FrameErrorCode::InvalidPayload,
        FrameErrorCode::ValidationFailed,
        FrameErrorCode::NotFound,
        FrameErrorCode::Forbidden,
        FrameErrorCode::MessageIdTaken,
        FrameErrorCode::RateLimited,
        FrameErrorCode::Unauthorized,
        FrameErrorCode::DeviceMismatch,
        FrameErrorCode::Unavailable,
        FrameErrorCode::Internal,
    ];
    let index = |c: &FrameErrorCode| match c {
        FrameErrorCode::InvalidFrame => 0,
        FrameErrorCode::UnknownType => 1,
        FrameErrorCode::InvalidPayload => 2,
        FrameErrorCode::ValidationFailed => 3,
        FrameErrorCode::NotFound => 4,
        FrameErrorCode::Forbidden => 5,
        FrameErrorCode::MessageIdTaken => 6,
        FrameErrorCode::RateLimited => 7,
        FrameErrorCode::Unauthorized => 8,
        FrameErrorCode::DeviceMismatch => 9,
        FrameErrorCode::Unavailable => 10,
        FrameErrorCode::Internal => 11,
    };
    assert_eq!(
        codes.iter().map(index).collect::<Vec<_>>(),
        (0..12).collect::<Vec<_>>()
    );
    assert_enum(&doc, "FrameErrorCode", &codes);

    let changes = [
        ConversationChange::Created,
        ConversationChange::MemberJoined,
        ConversationChange::MemberAdded,
        ConversationChange::MemberInvited,
        ConversationChange::InviteDeclined,
        ConversationChange::MemberLeft,
        ConversationChange::MemberRemoved,
        ConversationChange::RoleChanged,
        ConversationChange::OwnerTransferred,
        ConversationChange::Updated,
        ConversationChange::JoinLinkChanged,
        ConversationChange::TimerChanged,
        ConversationChange::RequestReceived,
        ConversationChange::RequestAccepted,
        ConversationChange::RequestDeclined,
    ];
    let index = |c: &ConversationChange| match c {
        ConversationChange::Created => 0,
        ConversationChange::MemberJoined => 1,
        ConversationChange::MemberAdded => 2,
        ConversationChange::MemberInvited => 3,
        ConversationChange::InviteDeclined => 4,
        ConversationChange::MemberLeft => 5,
        ConversationChange::MemberRemoved => 6,
        ConversationChange::RoleChanged => 7,
        ConversationChange::OwnerTransferred => 8,
        ConversationChange::Updated => 9,
        ConversationChange::JoinLinkChanged => 10,
        ConversationChange::TimerChanged => 11,
        ConversationChange::RequestReceived => 12,
        ConversationChange::RequestAccepted => 13,
        ConversationChange::RequestDeclined => 14,
    };
    assert_eq!(
        changes.iter().map(index).collect::<Vec<_>>(),
        (0..15).collect::<Vec<_>>()
    );
    assert_enum(&doc, "ConversationChange", &changes);

    let roles = [MemberRole::Owner, MemberRole::Admin, MemberRole::Member];
    let index = |r: &MemberRole| match r {
        MemberRole::Owner => 0,
        MemberRole::Admin => 1,
        MemberRole::Member => 2,
    };
    assert_eq!(roles.iter().map(index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_enum(&doc, "MemberRole", &roles);

    let room_changes = [RoomChange::Joined, RoomChange::Left];
    let index = |c: &RoomChange| match c {
        RoomChange::Joined => 0,
        RoomChange::Left => 1,
    };
    assert_eq!(
        room_changes.iter().map(index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_enum(&doc, "RoomChange", &room_changes);

    let typing_states = [TypingState::Started, TypingState::Stopped];
    let index = |s: &TypingState| match s {
        TypingState::Started => 0,
        TypingState::Stopped => 1,
    };
    assert_eq!(
        typing_states.iter().map(index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_enum(&doc, "TypingState", &typing_states);

    let device_changes = [
        DeviceChange::Added,
        DeviceChange::Reregistered,
        DeviceChange::Revoked,
    ];
    let index = |c: &DeviceChange| match c {
        DeviceChange::Added => 0,
        DeviceChange::Reregistered => 1,
        DeviceChange::Revoked => 2,
    };
    assert_eq!(
        device_changes.iter().map(index).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_enum(&doc, "DeviceChange", &device_changes);

    let reasons = [DeletionReason::Retracted];
    let index = |r: &DeletionReason| match r {
        DeletionReason::Retracted => 0,
    };
    assert_eq!(reasons.iter().map(index).collect::<Vec<_>>(), vec![0]);
    assert_enum(&doc, "DeletionReason", &reasons);

    let states = [
        GameInviteState::Pending,
        GameInviteState::Accepted,
        GameInviteState::Declined,
        GameInviteState::Expired,
        GameInviteState::Cancelled,
    ];
    let index = |s: &GameInviteState| match s {
        GameInviteState::Pending => 0,
        GameInviteState::Accepted => 1,
        GameInviteState::Declined => 2,
        GameInviteState::Expired => 3,
        GameInviteState::Cancelled => 4,
    };
    assert_eq!(
        states.iter().map(index).collect::<Vec<_>>(),
        (0..5).collect::<Vec<_>>()
    );
    assert_enum(&doc, "GameInviteState", &states);

    let statuses = [ReceiptStatus::Delivered];
    let index = |s: &ReceiptStatus| match s {
        ReceiptStatus::Delivered => 0,
    };
    assert_eq!(statuses.iter().map(index).collect::<Vec<_>>(), vec![0]);
    assert_enum(&doc, "ReceiptStatus", &statuses);
}

// ---- close codes, subprotocol, endpoint -------------------------------------

/// `pub const NAME: u16 = N;` lines of `pub mod close` in the source, so that
/// a constant added there is noticed here.
fn close_constants_in_source() -> BTreeMap<u16, String> {
    let body = WS_RS
        .split_once("pub mod close {")
        .expect("a `pub mod close` in ws.rs")
        .1
        .split_once("\n}")
        .expect("the end of `mod close`")
        .0;
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .map(|l| {
            let (name, rest) = l.split_once(':').expect("NAME: u16 = N;");
            let value = rest
                .split_once('=')
                .expect("= N")
                .1
                .trim()
                .trim_end_matches(';');
            (
                value.parse().expect("a u16 literal"),
                name.trim().to_owned(),
            )
        })
        .collect()
}

#[test]
fn close_codes_are_the_close_constants() {
    let typed: BTreeMap<u16, String> = [
        (close::RESTART, "RESTART"),
        (close::POLICY, "POLICY"),
        (close::TOO_BIG, "TOO_BIG"),
        (close::INTERNAL, "INTERNAL"),
        (close::HEARTBEAT_TIMEOUT, "HEARTBEAT_TIMEOUT"),
        (close::TOKEN_EXPIRED, "TOKEN_EXPIRED"),
        (close::REVOKED, "REVOKED"),
        (close::SLOW_CONSUMER, "SLOW_CONSUMER"),
        (close::TOO_MANY_SESSIONS, "TOO_MANY_SESSIONS"),
    ]
    .into_iter()
    .map(|(c, n)| (c, n.to_owned()))
    .collect();
    assert_eq!(
        close_constants_in_source(),
        typed,
        "the constants of `close` (update this list when one is added)"
    );

    let doc = doc();
    let documented: BTreeMap<u16, String> = doc["x-close-codes"]
        .as_object()
        .expect("x-close-codes")
        .iter()
        .map(|(code, entry)| {
            assert!(
                entry["description"].as_str().is_some_and(|d| !d.is_empty()),
                "close code {code} has a description"
            );
            (
                code.parse().expect("a numeric close code"),
                entry["name"].as_str().expect("a name").to_owned(),
            )
        })
        .collect();
    assert_eq!(documented, typed, "x-close-codes vs ws::close");
}

#[test]
fn subprotocol_token_prefix_and_endpoint() {
    let doc = doc();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert_eq!(doc["x-subprotocol"], SUBPROTOCOL);
    assert_eq!(doc["x-token-prefix"], TOKEN_PREFIX);
    let binding = &doc["channels"]["session"]["bindings"]["ws"];
    let header = &binding["headers"]["properties"]["Sec-WebSocket-Protocol"];
    assert_eq!(
        header["examples"][0],
        format!("{SUBPROTOCOL}, {TOKEN_PREFIX}<accessToken>")
    );
    let scheme = &doc["components"]["securitySchemes"]["subprotocolToken"];
    assert_eq!(scheme["name"], "Sec-WebSocket-Protocol");

    // The endpoint is the one the REST document describes, a GET.
    let address = doc["channels"]["session"]["address"]
        .as_str()
        .expect("address");
    assert_eq!(doc["servers"]["local"]["pathname"], address);
    assert_eq!(binding["method"], "GET");
    let openapi = serde_json::to_value(passerelle_gateway::openapi::ApiDoc::openapi())
        .expect("openapi as JSON");
    assert!(
        openapi["paths"][address]["get"].is_object(),
        "GET {address} is in the OpenAPI document"
    );
    assert_eq!(
        doc["info"]["version"], openapi["info"]["version"],
        "same version as the REST document"
    );
}

#[test]
fn every_reference_resolves() {
    fn walk(doc: &Value, v: &Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let pointer = r.strip_prefix('#').expect("a local reference");
                    assert!(doc.pointer(pointer).is_some(), "dangling {r}");
                }
                m.values().for_each(|x| walk(doc, x));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(doc, x)),
            _ => {}
        }
    }
    let doc = doc();
    walk(&doc, &doc);
}

// ---- examples ---------------------------------------------------------------

fn examples<'a>(doc: &'a Value, operation: &str) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    for m in doc["operations"][operation]["messages"]
        .as_array()
        .expect("messages")
    {
        let message = resolve(doc, m);
        let name = message["name"].as_str().expect("name").to_owned();
        let list = message["examples"]
            .as_array()
            .unwrap_or_else(|| panic!("{operation}: `{name}` has examples"));
        assert!(!list.is_empty(), "{operation}: `{name}` has examples");
        for e in list {
            out.push((name.clone(), &e["payload"]));
        }
    }
    out
}

/// Client examples are frames the gateway accepts as they are.
#[test]
fn client_examples_are_accepted() {
    let doc = doc();
    for (name, example) in examples(&doc, "sendToServer") {
        let text = serde_json::to_string(example).expect("json");
        let envelope: ClientEnvelope = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} example is an envelope: {e}"));
        assert_eq!(envelope.kind, name);
        let frame = ClientFrame::parse(&envelope.kind, envelope.payload)
            .unwrap_or_else(|e| panic!("{name} example parses: {e:?}"));
        assert_eq!(frame.kind(), name);
        let action = passerelle_gateway::ws::inbound::read(
            &text,
            passerelle_store::UserId::new(),
            passerelle_store::DeviceId::new(),
        );
        assert!(
            action.is_ok(),
            "{name} example passes validation: {action:?}"
        );
    }
}

/// Server examples deserialise as `ServerFrame` and serialise back unchanged
/// (so they hold no field the server would not send).
#[test]
fn server_examples_round_trip() {
    let doc = doc();
    for (name, example) in examples(&doc, "receiveFromServer") {
        let frame: ServerFrame = serde_json::from_value(example.clone())
            .unwrap_or_else(|e| panic!("{name} example is a ServerFrame: {e}"));
        assert_eq!(frame_type(&frame), name);
        assert_eq!(
            &serde_json::to_value(&frame).expect("json"),
            example,
            "{name} example as the server writes it"
        );
        // Error examples quote what the code says.
        if let ServerFrame::Error { payload, .. } = &frame
            && payload.code == FrameErrorCode::InvalidPayload
        {
            let refused = ClientFrame::parse(
                "message",
                json!({"messageId": uuid(1), "recipientId": uuid(2),
                       "timestamp": "2025-03-01T09:30:00Z", "sessionId": "s",
                       "messageType": "text", "content": "hi"}),
            );
            let Err(FrameError::InvalidPayload(m)) = refused else {
                panic!("content is refused: {refused:?}");
            };
            assert_eq!(payload.message, format!("message payload: {m}"));
        }
    }
}

// ---- docs/protocol.md --------------------------------------------------------

/// The prose lists every frame type, error code and close code.
#[test]
fn protocol_md_names_every_frame_error_and_close_code() {
    let mut missing = Vec::new();
    let mut want = |needle: String| {
        if !PROTOCOL_MD.contains(&needle) {
            missing.push(needle);
        }
    };
    for t in ClientFrame::TYPES {
        want(format!("`{t}`"));
    }
    for f in every_server_frame(None) {
        want(format!("`{}`", frame_type(&f)));
    }
    let doc = doc();
    for code in strings(doc["components"]["schemas"]["FrameErrorCode"].get("enum")) {
        want(format!("`{code}`"));
    }
    for code in close_constants_in_source().keys() {
        want(format!("| {code} |"));
    }
    assert!(missing.is_empty(), "docs/protocol.md lacks {missing:?}");
}
