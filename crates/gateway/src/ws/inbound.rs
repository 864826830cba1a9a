//! Reading client frames: the envelope, the payload for its `type`, and the
//! rules on values, strictly. Anything wrong becomes a [`Refusal`] naming
//! the problem (sent back as an `error` frame; the session stays open).

use passerelle_api_types::ws::{
    ClientEnvelope, ClientFrame, DeviceEntry, FrameError, FrameErrorBody, FrameErrorCode,
    MessageType, SendMessage, ServerFrame, SessionPresence, TypingState,
};
use passerelle_domain::RegistrationId;
use passerelle_store::batch::Entry;
use passerelle_store::streams::MessageRow;
use passerelle_store::{DeviceId, UserId};

/// What a well-formed client frame asks for.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per frame, consumed at once; boxing would add an allocation per message"
)]
pub enum Action {
    Send {
        id: Option<String>,
        message: MessageRow,
        recipients: Vec<UserId>,
        entries: Option<Vec<Entry>>,
    },
    Resume {
        id: Option<String>,
        after: Option<u64>,
    },
    Ack {
        seq: u64,
    },
    Auth {
        id: Option<String>,
        token: String,
    },
    Ping {
        id: Option<String>,
    },
    EnterRoom {
        id: Option<String>,
        link: uuid::Uuid,
    },
    LeaveRoom {
        id: Option<String>,
        conversation: uuid::Uuid,
    },
    Typing {
        id: Option<String>,
        conversation: uuid::Uuid,
        state: TypingState,
    },
    Presence {
        id: Option<String>,
        away: bool,
    },
}

/// A refused frame: the `error` frame to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub id: Option<String>,
    pub code: FrameErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(id: Option<String>, code: FrameErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            code,
            message: message.into(),
        }
    }

    pub fn frame(&self) -> String {
        frame_text(&ServerFrame::Error {
            id: self.id.clone(),
            payload: FrameErrorBody {
                code: self.code,
                message: self.message.clone(),
                mismatch: None,
            },
        })
    }
}

/// A server frame as JSON text.
pub fn frame_text(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

const MAX_ID: usize = 64;
const MAX_SESSION_ID: usize = 128;
const MAX_BLOB_ID: usize = 128;
const MAX_GAME_ID: usize = 64;
/// Entries of one per-device send at most (the frame size limit,
/// `ws.max_frame_bytes`, usually binds first: about 110 bytes an entry).
const MAX_ENTRIES: usize = 1000;

/// Reads one text frame of the device `device` of `user`.
pub fn read(text: &str, user: UserId, device: DeviceId) -> Result<Action, Refusal> {
    let envelope: ClientEnvelope = serde_json::from_str(text).map_err(|e| {
        Refusal::new(
            None,
            FrameErrorCode::InvalidFrame,
            format!("not a frame: {e}"),
        )
    })?;
    let id = envelope.id;
    if id
        .as_ref()
        .is_some_and(|i| i.len() > MAX_ID || i.chars().any(char::is_control))
    {
        return Err(Refusal::new(
            None,
            FrameErrorCode::InvalidFrame,
            "id: at most 64 bytes, no control characters",
        ));
    }
    let frame = ClientFrame::parse(&envelope.kind, envelope.payload).map_err(|e| match e {
        FrameError::UnknownType(t) => Refusal::new(
            id.clone(),
            FrameErrorCode::UnknownType,
            format!(
                "unknown frame type {t:?}; expected one of {}",
                ClientFrame::TYPES.join(", ")
            ),
        ),
        FrameError::InvalidPayload(m) => Refusal::new(
            id.clone(),
            FrameErrorCode::InvalidPayload,
            format!("{} payload: {m}", envelope.kind),
        ),
    })?;
    Ok(match frame {
        ClientFrame::Message(m) => {
            let (message, recipients, entries) = message(m, user, device)
                .map_err(|why| Refusal::new(id.clone(), FrameErrorCode::ValidationFailed, why))?;
            Action::Send {
                id,
                message,
                recipients,
                entries,
            }
        }
        ClientFrame::Resume(r) => Action::Resume { id, after: r.after },
        ClientFrame::Ack(a) => Action::Ack { seq: a.seq },
        ClientFrame::Auth(a) => Action::Auth {
            id,
            token: a.access_token,
        },
        ClientFrame::Ping => Action::Ping { id },
        ClientFrame::EnterRoom(r) => Action::EnterRoom { id, link: r.link },
        ClientFrame::LeaveRoom(r) => Action::LeaveRoom {
            id,
            conversation: r.conversation_id,
        },
        ClientFrame::Typing(t) => Action::Typing {
            id,
            conversation: t.conversation_id,
            state: t.state,
        },
        ClientFrame::Presence(p) => Action::Presence {
            id,
            away: p.status == SessionPresence::Away,
        },
    })
}

/// A checked `message` frame: the row to store, its direct recipient, its
/// per-device entries.
type CheckedMessage = (MessageRow, Vec<UserId>, Option<Vec<Entry>>);

fn message(m: SendMessage, user: UserId, device: DeviceId) -> Result<CheckedMessage, String> {
    let (recipient, conversation) = match (m.recipient_id, m.conversation_id) {
        (Some(r), None) => (Some(UserId(r)), None),
        (None, Some(c)) => (None, Some(c)),
        _ => return Err("exactly one of recipientId and conversationId is required".into()),
    };
    if m.session_id.is_empty()
        || m.session_id.chars().count() > MAX_SESSION_ID
        || m.session_id.chars().any(char::is_control)
    {
        return Err("sessionId: 1 to 128 printable characters".into());
    }
    if let Some(blob) = &m.blob_id
        && !token_like(blob, MAX_BLOB_ID)
    {
        return Err("blobId: 1 to 128 characters of [A-Za-z0-9._-]".into());
    }
    let entries = m.device_entries.map(entries).transpose()?;
    match (m.message_type, &m.game_id) {
        (MessageType::GameInvite, None) => {
            return Err("gameId: required for a game_invite".into());
        }
        (MessageType::GameInvite, Some(game)) if !token_like(game, MAX_GAME_ID) => {
            return Err("gameId: 1 to 64 characters of [A-Za-z0-9._-]".into());
        }
        (MessageType::GameInvite, Some(_)) if recipient == Some(user) => {
            return Err(
                "game_invite: game invitations are for direct conversations with another user"
                    .into(),
            );
        }
        (MessageType::GameInvite, Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err("gameId: only a game_invite carries one".into()),
    }
    let now = passerelle_store::now();
    let row = MessageRow {
        id: uuid::Uuid::now_v7(),
        message_id: m.message_id,
        conversation_id: conversation,
        sender_id: user,
        sender_device_id: device,
        recipient_id: recipient,
        message_type: m.message_type.as_str().to_owned(),
        timestamp: m.timestamp,
        session_id: m.session_id,
        reply_to: m.reply_to,
        blob_id: m.blob_id,
        game_id: m.game_id,
        is_read: false,
        read_at: None,
        created_at: now,
        withheld: false,
        expires_at: None,
    };
    Ok((row, recipient.into_iter().collect(), entries))
}

/// Checks a per-device send's entries: at most [`MAX_ENTRIES`], one per
/// device, each with a registration number and a well-formed blob id.
fn entries(list: Vec<DeviceEntry>) -> Result<Vec<Entry>, String> {
    if list.len() > MAX_ENTRIES {
        return Err(format!(
            "deviceEntries: at most {MAX_ENTRIES} entries; address large groups with one blobId"
        ));
    }
    let mut seen = std::collections::HashSet::new();
    list.into_iter()
        .map(|e| {
            if !seen.insert(e.device_id) {
                return Err(format!("deviceEntries: device {} named twice", e.device_id));
            }
            RegistrationId::parse(u64::from(e.registration_id)).map_err(|e| e.to_string())?;
            if !token_like(&e.blob_id, MAX_BLOB_ID) {
                return Err("deviceEntries: blobId: 1 to 128 characters of [A-Za-z0-9._-]".into());
            }
            Ok(Entry {
                device_id: DeviceId(e.device_id),
                registration_id: e.registration_id,
                blob_id: e.blob_id,
            })
        })
        .collect()
}

/// 1 to `max` bytes of `[A-Za-z0-9._-]` (blob and game ids).
fn token_like(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Action, Refusal> {
        read(text, UserId::new(), DeviceId::new())
    }

    #[test]
    fn refusals_name_the_problem() {
        let r = read_text("not json").expect_err("refused");
        assert_eq!(r.code, FrameErrorCode::InvalidFrame);
        let r = read_text(r#"{"type":"message","id":"m1","payload":{"messageId":"6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f","recipientId":"0f1e2d3c-4b5a-4697-8877-665544332211","timestamp":"2024-01-01T00:00:00Z","sessionId":"abc","messageType":"text","ciphertext":"x"}}"#).expect_err("refused");
        assert_eq!(
            (r.code, r.id.as_deref()),
            (FrameErrorCode::InvalidPayload, Some("m1"))
        );
        assert!(r.message.contains("ciphertext"), "{}", r.message);
        let r = read_text(r#"{"type":"message","payload":{"messageId":"6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f","recipientId":"0f1e2d3c-4b5a-4697-8877-665544332211","timestamp":"2024-01-01T00:00:00Z","sessionId":"","messageType":"text"}}"#).expect_err("refused");
        assert_eq!(r.code, FrameErrorCode::ValidationFailed);
        let r = read_text(r#"{"type":"subscribe","payload":{}}"#).expect_err("refused");
        assert_eq!(r.code, FrameErrorCode::UnknownType);
        assert!(matches!(
            read_text(r#"{"type":"ack","payload":{"seq":3}}"#),
            Ok(Action::Ack { seq: 3 })
        ));
        let r = read_text(r#"{"type":"enter_room","id":"e1","payload":{"link":"not-a-uuid"}}"#)
            .expect_err("refused");
        assert_eq!(
            (r.code, r.id.as_deref()),
            (FrameErrorCode::InvalidPayload, Some("e1"))
        );
        let r = read_text(r#"{"type":"enter_room","payload":{"link":"0f1e2d3c-4b5a-4697-8877-665544332211","key":"k"}}"#)
            .expect_err("refused");
        assert!(r.message.contains("key"), "{}", r.message);
        assert!(matches!(
            read_text(
                r#"{"type":"leave_room","payload":{"conversationId":"0f1e2d3c-4b5a-4697-8877-665544332211"}}"#
            ),
            Ok(Action::LeaveRoom { .. })
        ));
        let r = read_text(r#"{"type":"typing","id":"t1","payload":{"conversationId":"0f1e2d3c-4b5a-4697-8877-665544332211","state":"dancing"}}"#)
            .expect_err("refused");
        assert_eq!(
            (r.code, r.id.as_deref()),
            (FrameErrorCode::InvalidPayload, Some("t1"))
        );
        assert!(matches!(
            read_text(
                r#"{"type":"typing","payload":{"conversationId":"0f1e2d3c-4b5a-4697-8877-665544332211","state":"started"}}"#
            ),
            Ok(Action::Typing {
                state: TypingState::Started,
                ..
            })
        ));
    }
}
