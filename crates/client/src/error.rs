//! [`ClientError`]: every way a REST call or a WebSocket session can fail.
//!
//! One error type for the whole client, so callers (tests, the load
//! generator) can branch on what went wrong: a REST error with its stable
//! [`ErrorCode`], a refused WebSocket handshake, a session the server closed
//! (with its close code), a protocol breach, or a transport failure.
//!
//! No variant ever holds a token: messages come from the server's error body
//! or from this crate's own wording, never from the request that was sent.

use passerelle_api_types::{ErrorBody, ErrorCode};

/// Most characters of a server body kept in an error.
const MAX_BODY_CHARS: usize = 1024;

/// Why a call failed. `Display` never shows a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A REST call answered with a non-2xx status. `code` is `None` when the
    /// body was not the documented `{"error": {"code", "message"}}` shape;
    /// `message` is then the body itself (shortened).
    #[error("HTTP {status}{}: {message}", code.map(|c| format!(" ({})", c.as_str())).unwrap_or_default())]
    Http {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
    },
    /// The WebSocket upgrade was answered with something other than 101.
    #[error("WebSocket handshake refused with HTTP {status}: {body}")]
    Handshake { status: u16, body: String },
    /// The server closed the session (1005 when its close frame had no code,
    /// 1006 when the connection ended without a close frame).
    #[error("WebSocket closed with code {code}: {reason}")]
    Closed { code: u16, reason: String },
    /// The other side broke the protocol (wrong subprotocol echoed, an
    /// unreadable frame, a bad URL or token shape, ...).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The transport failed: connect, read, write, or a timeout.
    #[error("I/O error: {0}")]
    Io(String),
}

impl ClientError {
    /// The REST error code, for [`ClientError::Http`].
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Http { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status of a REST error or a refused handshake.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } | Self::Handshake { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The close code of a session the server closed.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Self::Closed { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Decodes a non-2xx REST answer from its status and body.
    pub fn from_http(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) => Self::Http {
                status,
                code: Some(b.error.code),
                message: b.error.message,
            },
            Err(_) => Self::Http {
                status,
                code: None,
                message: body_text(body),
            },
        }
    }
}

/// A server body as text, lossily decoded and shortened.
pub(crate) fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.chars().count() > MAX_BODY_CHARS {
        let mut s: String = text.chars().take(MAX_BODY_CHARS).collect();
        s.push('…');
        s
    } else {
        text.into_owned()
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        // URLs never hold tokens here, but drop them anyway: errors end up in
        // logs and test output.
        Self::Io(e.without_url().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_error_body_is_decoded() {
        let body = br#"{"error":{"code":"validation_failed","message":"username: must be 3 to 32 characters long"}}"#;
        let e = ClientError::from_http(422, body);
        assert_eq!(
            e,
            ClientError::Http {
                status: 422,
                code: Some(ErrorCode::ValidationFailed),
                message: "username: must be 3 to 32 characters long".into(),
            }
        );
        assert_eq!(e.code(), Some(ErrorCode::ValidationFailed));
        assert_eq!(e.status(), Some(422));
        assert_eq!(
            e.to_string(),
            "HTTP 422 (validation_failed): username: must be 3 to 32 characters long"
        );
    }

    #[test]
    fn other_bodies_are_kept_as_text() {
        let e = ClientError::from_http(502, b"Bad Gateway");
        assert_eq!(
            e,
            ClientError::Http {
                status: 502,
                code: None,
                message: "Bad Gateway".into()
            }
        );
        assert_eq!(e.to_string(), "HTTP 502: Bad Gateway");
        // An unknown code is not the documented shape either.
        let e = ClientError::from_http(400, br#"{"error":{"code":"nope","message":"m"}}"#);
        assert_eq!(e.code(), None);
    }

    #[test]
    fn long_bodies_are_shortened() {
        let body = "x".repeat(5000);
        let ClientError::Http { message, .. } = ClientError::from_http(500, body.as_bytes()) else {
            panic!("not an HTTP error");
        };
        assert_eq!(message.chars().count(), MAX_BODY_CHARS + 1);
    }

    #[test]
    fn close_codes_are_exposed() {
        let e = ClientError::Closed {
            code: 4003,
            reason: "revoked".into(),
        };
        assert_eq!(e.close_code(), Some(4003));
        assert_eq!(e.to_string(), "WebSocket closed with code 4003: revoked");
    }
}
