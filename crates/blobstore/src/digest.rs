//! SHA-256 digests as the API spells them (64 lowercase hex characters),
//! and the running hash of an upload.

use sha2::{Digest, Sha256};

use crate::error::BlobError;

/// A SHA-256 in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// Accepts exactly 64 lowercase hex characters.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(raw.to_owned()))
    }

    /// Like [`Self::parse`], for a client-sent header.
    pub fn from_header(raw: &str) -> Result<Self, BlobError> {
        Self::parse(raw).ok_or(BlobError::InvalidHeader(
            "x-content-sha256 must be 64 lowercase hex characters",
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hashes an upload as it streams through, and counts its bytes.
#[derive(Default)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    pub fn update(&mut self, chunk: &[u8]) {
        self.inner.update(chunk);
        self.len += chunk.len() as u64;
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Sha256Hex {
        let out = self.inner.finalize();
        let mut hex = String::with_capacity(64);
        for b in out {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Sha256Hex(hex)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_parses() {
        let mut h = Hasher::default();
        h.update(b"ab");
        h.update(b"c");
        assert_eq!(h.len(), 3);
        let d = h.finish();
        assert_eq!(
            d.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Hex::parse(d.as_str()), Some(d.clone()));
        assert!(Sha256Hex::parse(&d.as_str().to_uppercase()).is_none());
        assert!(Sha256Hex::parse("abc").is_none());
    }
}
