//! Paging of list endpoints: the `limit` rule and the opaque cursor.
//!
//! A cursor is a position in one caller's own list (the entry's time and the
//! listed user's, or conversation's, id), encoded as unpadded base64url of 24 bytes: the time in
//! microseconds since the epoch (big-endian `i64`) and the UUID. It is not
//! signed: forging one only moves the caller within their own list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use passerelle_api_types::PageQuery;
use passerelle_domain::UserId;
use passerelle_store::conversations::Position;
use passerelle_store::social::PageKey;
use uuid::Uuid;

use crate::error::ApiError;

/// A checked page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<PageKey>,
}

impl PageRequest {
    /// Checks `limit` (1 to [`PageQuery::MAX_LIMIT`], 422 otherwise) and
    /// decodes `cursor` (400 `invalid_query` when it is not one of ours).
    pub fn from_query(q: &PageQuery) -> Result<Self, ApiError> {
        let limit = q.limit.unwrap_or(PageQuery::DEFAULT_LIMIT);
        if !(1..=PageQuery::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::Validation(format!(
                "limit: must be 1 to {}",
                PageQuery::MAX_LIMIT
            )));
        }
        let after = q.cursor.as_deref().map(decode).transpose()?;
        Ok(Self { limit, after })
    }
}

impl PageRequest {
    /// The position as the conversation lists take it (the same cursor
    /// format: a time and an id).
    pub fn position(&self) -> Option<Position> {
        self.after.map(|k| Position {
            at: k.at,
            id: k.user_id.0,
        })
    }
}

/// The cursor text of a conversation list's position.
pub fn encode_position(p: Position) -> String {
    encode(PageKey {
        at: p.at,
        user_id: UserId(p.id),
    })
}

/// The cursor text of a position.
pub fn encode(key: PageKey) -> String {
    let mut bytes = [0u8; 24];
    bytes[..8].copy_from_slice(&key.at.timestamp_micros().to_be_bytes());
    bytes[8..].copy_from_slice(key.user_id.0.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(text: &str) -> Result<PageKey, ApiError> {
    let bad = || ApiError::InvalidQuery("cursor: not a cursor of this list".into());
    if text.len() != 32 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let (micros, id) = bytes.split_at_checked(8).ok_or_else(bad)?;
    let micros = i64::from_be_bytes(micros.try_into().map_err(|_| bad())?);
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = Uuid::from_slice(id).map_err(|_| bad())?;
    Ok(PageKey {
        at,
        user_id: UserId(id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let key = PageKey {
            at: passerelle_store::now(),
            user_id: UserId::new(),
        };
        let text = encode(key);
        assert_eq!(text.len(), 32);
        assert_eq!(decode(&text).ok(), Some(key));
        for junk in [
            "",
            "abc",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            &"A".repeat(33),
        ] {
            assert!(decode(junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        let q = |limit| PageQuery {
            limit,
            cursor: None,
        };
        assert_eq!(
            PageRequest::from_query(&q(None)).map(|p| p.limit).ok(),
            Some(50)
        );
        assert!(PageRequest::from_query(&q(Some(0))).is_err());
        assert!(PageRequest::from_query(&q(Some(101))).is_err());
        assert!(PageRequest::from_query(&q(Some(100))).is_ok());
    }
}
