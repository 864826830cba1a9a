//! What travels on a user's bus channel: stream events for that user's
//! devices, live-only frames for all of the user's sessions, or a control
//! order (close sessions); and on a node's own channel, live-only frames
//! for the sessions of several users on that node (presence, coalesced per
//! node). JSON, with event payloads kept as raw JSON so that nodes forward
//! them without re-encoding.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// One message on a user's channel. Externally tagged: the raw payloads
/// cannot pass through serde's buffering of internally tagged enums.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Envelope {
    /// Stream events for some of the user's devices.
    Events { events: Vec<Event> },
    /// A whole server frame outside the durable stream (no `seq`, never
    /// replayed; lost when a session is not connected) for every live
    /// session of the user but `except`: room joins and leaves, typing.
    Ephemeral {
        frame: Box<RawValue>,
        /// A session (connection id) that must not get it: the one whose
        /// own frame caused it (typing is not echoed to the typer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        except: Option<Uuid>,
    },
    /// A whole server frame outside the stream for every live session of
    /// each of `users` on the node whose channel carries it. A node's
    /// channel is named like a user's, after the node's id (a random v4
    /// UUID, while user ids are v7: the two never meet), so one publish
    /// reaches every watcher a node serves.
    Multicast {
        users: Vec<Uuid>,
        frame: Box<RawValue>,
    },
    /// Close the sessions of these devices (all of the user's when `devices`
    /// is empty) with `code`.
    Close {
        devices: Vec<Uuid>,
        code: u16,
        reason: String,
    },
}

/// One stream event for one device.
#[derive(Debug, Serialize, Deserialize)]
pub struct Event {
    pub device: Uuid,
    pub seq: u64,
    /// The frame type (`message`, `receipt`).
    #[serde(rename = "type")]
    pub kind: String,
    pub payload: Box<RawValue>,
}

impl Event {
    /// The frame text a session sends: `{"type","seq","payload"}`.
    pub fn frame_text(&self) -> String {
        let payload = self.payload.get();
        let mut text = String::with_capacity(payload.len() + 48);
        text.push_str("{\"type\":\"");
        text.push_str(&self.kind);
        text.push_str("\",\"seq\":");
        text.push_str(&self.seq.to_string());
        text.push_str(",\"payload\":");
        text.push_str(payload);
        text.push('}');
        text
    }
}

impl Envelope {
    pub fn encode(&self) -> bytes::Bytes {
        bytes::Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(bytes: &[u8]) -> Option<Envelope> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_text_is_the_protocol_frame() {
        let e = Event {
            device: Uuid::nil(),
            seq: 7,
            kind: "message".into(),
            payload: RawValue::from_string("{\"a\":1}".into()).expect("raw"),
        };
        let v: serde_json::Value = serde_json::from_str(&e.frame_text()).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"type": "message", "seq": 7, "payload": {"a": 1}})
        );
        let env = Envelope::Events { events: vec![e] };
        let back = Envelope::decode(&env.encode()).expect("decode");
        assert!(matches!(back, Envelope::Events { events } if events[0].seq == 7));
    }

    #[test]
    fn ephemeral_frames_travel_unchanged() {
        let text = r#"{"type":"room","payload":{"a":1}}"#;
        let env = Envelope::Ephemeral {
            frame: RawValue::from_string(text.into()).expect("raw"),
            except: None,
        };
        let back = Envelope::decode(&env.encode()).expect("decode");
        assert!(matches!(back, Envelope::Ephemeral { frame, except: None } if frame.get() == text));
        let env = Envelope::Ephemeral {
            frame: RawValue::from_string(text.into()).expect("raw"),
            except: Some(Uuid::nil()),
        };
        let back = Envelope::decode(&env.encode()).expect("decode");
        assert!(matches!(back, Envelope::Ephemeral { except: Some(c), .. } if c.is_nil()));
        let env = Envelope::Multicast {
            users: vec![Uuid::nil()],
            frame: RawValue::from_string(text.into()).expect("raw"),
        };
        let back = Envelope::decode(&env.encode()).expect("decode");
        assert!(
            matches!(back, Envelope::Multicast { users, frame } if users == [Uuid::nil()] && frame.get() == text)
        );
    }
}
