//! Blob ids: 1 to 128 of `[A-Za-z0-9_-]`. Checked before anything else
//! touches a request, so an id can never name a path outside the store
//! (no `/`, `.` or `%` can get through) or an unexpected S3 key.

use std::fmt;

use crate::error::BlobError;

/// The longest id.
pub const MAX_ID_LEN: usize = 128;

/// A valid blob id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobId(String);

impl BlobId {
    pub fn parse(raw: &str) -> Result<Self, BlobError> {
        if raw.is_empty() || raw.len() > MAX_ID_LEN {
            return Err(BlobError::InvalidId(
                "a blob id is 1 to 128 characters long",
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(BlobError::InvalidId(
                "a blob id is made of A-Z, a-z, 0-9, '_' and '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_rule() {
        for ok in ["a", "A-z_09", &"x".repeat(128)] {
            assert!(BlobId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            "a/b",
            "a.b",
            "../etc",
            "%2e",
            "é",
            &"x".repeat(129),
        ] {
            assert!(BlobId::parse(bad).is_err(), "{bad}");
        }
    }
}
