//! Turning [`ClientFrame`]s into the text the server reads, and server text
//! into [`ServerFrame`]s.
//!
//! Kept apart from the socket code so the wire format can be unit-tested
//! without a server: a client frame is the envelope
//! `{"type", "id"?, "payload"}` ([`ClientEnvelope`]); a server frame is
//! parsed strictly with `serde_json::from_str::<ServerFrame>`.

use passerelle_api_types::ws::{ClientEnvelope, ClientFrame, ServerFrame};

use crate::ClientError;

/// The JSON text of `frame`, with the correlation `id` when given.
pub fn envelope_text(frame: &ClientFrame, id: Option<&str>) -> Result<String, ClientError> {
    let envelope = ClientEnvelope {
        kind: frame.kind().to_owned(),
        id: id.map(str::to_owned),
        payload: frame.payload(),
    };
    // Serialising a struct of strings and a JSON value cannot fail; map the
    // error rather than unwrap all the same. The message names no field
    // value, so a reauth token cannot leak through it.
    serde_json::to_string(&envelope)
        .map_err(|_| ClientError::Protocol(format!("cannot encode a `{}` frame", frame.kind())))
}

/// Parses one server text frame.
pub fn parse_server_frame(text: &str) -> Result<ServerFrame, ClientError> {
    serde_json::from_str(text)
        .map_err(|e| ClientError::Protocol(format!("unreadable server frame: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_api_types::ws::{
        Ack, EnterRoom, LeaveRoom, MessageType, Reauth, Resume, SendMessage, Typing, TypingState,
    };
    use serde_json::json;

    fn round_trip(text: &str) -> (ClientEnvelope, ClientFrame) {
        let env: ClientEnvelope = serde_json::from_str(text).expect("envelope");
        let frame = ClientFrame::parse(&env.kind, env.payload.clone()).expect("frame");
        (env, frame)
    }

    #[test]
    fn ping_with_and_without_id() {
        let text = envelope_text(&ClientFrame::Ping, Some("p1")).expect("text");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v, json!({"type": "ping", "id": "p1", "payload": {}}));

        let text = envelope_text(&ClientFrame::Ping, None).expect("text");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v, json!({"type": "ping", "payload": {}}));
    }

    #[test]
    fn every_frame_parses_back_as_the_server_reads_it() {
        let msg = SendMessage {
            device_entries: None,
            message_id: "6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f"
                .parse()
                .expect("uuid"),
            recipient_id: Some(
                "0f1e2d3c-4b5a-4697-8877-665544332211"
                    .parse()
                    .expect("uuid"),
            ),
            conversation_id: None,
            timestamp: "2024-01-01T00:00:00Z".parse().expect("time"),
            session_id: "abc".into(),
            message_type: MessageType::Text,
            reply_to: None,
            blob_id: Some("blob-1".into()),
            game_id: None,
        };
        let frames = [
            ClientFrame::Message(msg),
            ClientFrame::Resume(Resume { after: Some(7) }),
            ClientFrame::Resume(Resume { after: None }),
            ClientFrame::Ack(Ack { seq: 3 }),
            ClientFrame::Auth(Reauth {
                access_token: "t.o.k".into(),
            }),
            ClientFrame::Ping,
            ClientFrame::EnterRoom(EnterRoom {
                link: "0f1e2d3c-4b5a-4697-8877-665544332211"
                    .parse()
                    .expect("uuid"),
            }),
            ClientFrame::LeaveRoom(LeaveRoom {
                conversation_id: "0f1e2d3c-4b5a-4697-8877-665544332211"
                    .parse()
                    .expect("uuid"),
            }),
            ClientFrame::Typing(Typing {
                conversation_id: "0f1e2d3c-4b5a-4697-8877-665544332211"
                    .parse()
                    .expect("uuid"),
                state: TypingState::Started,
            }),
        ];
        for frame in frames {
            let text = envelope_text(&frame, Some("c-1")).expect("text");
            let (env, back) = round_trip(&text);
            assert_eq!(env.kind, frame.kind());
            assert_eq!(env.id.as_deref(), Some("c-1"));
            assert_eq!(back, frame);
        }
    }

    #[test]
    fn message_payload_has_the_documented_camel_case_fields() {
        let msg = SendMessage {
            device_entries: None,
            message_id: "6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f"
                .parse()
                .expect("uuid"),
            recipient_id: None,
            conversation_id: None,
            timestamp: "2024-01-01T00:00:00Z".parse().expect("time"),
            session_id: "s".into(),
            message_type: MessageType::GameInvite,
            reply_to: None,
            blob_id: None,
            game_id: None,
        };
        let text = envelope_text(&ClientFrame::Message(msg), None).expect("text");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            v,
            json!({"type": "message", "payload": {
                "messageId": "6f1c2a4e-8a9b-4c1d-9e2f-3a4b5c6d7e8f",
                "timestamp": "2024-01-01T00:00:00Z",
                "sessionId": "s",
                "messageType": "game_invite"
            }})
        );
    }

    #[test]
    fn server_frames_are_parsed_and_garbage_is_a_protocol_error() {
        let f = parse_server_frame(r#"{"type":"pong","id":"p1","payload":{}}"#).expect("pong");
        assert!(matches!(f, ServerFrame::Pong { id: Some(ref i), .. } if i == "p1"));
        let f = parse_server_frame(r#"{"type":"synced","payload":{"lastSeq":4}}"#).expect("synced");
        assert!(matches!(f, ServerFrame::Synced { .. }));
        for bad in ["not json", r#"{"type":"shout","payload":{}}"#, "{}"] {
            assert!(
                matches!(parse_server_frame(bad), Err(ClientError::Protocol(_))),
                "{bad}"
            );
        }
    }
}
