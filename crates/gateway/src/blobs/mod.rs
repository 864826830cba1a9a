//! Blobs on the gateway's side: granting capabilities for the blob store
//! and deleting blobs when their time is up. The gateway never sees a
//! blob's bytes: it decides who may put or get which blob for how long,
//! signs that as a capability (`passerelle_auth::capability`), and tells
//! the blob store which ids to delete ([`retention`]).
//!
//! With `blobs.embedded` (the default) the blob store runs in this process
//! on its own listener (`blobs.bind`, never the gateway's), so that the
//! gateway's own routes stay closed to bytes.

pub mod retention;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use passerelle_api_types::BlobGrant;
use passerelle_auth::{BlobOp, CapabilityIssuer, Grant};
use uuid::Uuid;

use crate::config::BlobSettings;
use crate::error::ApiError;

/// What granting needs. Cheap to clone.
#[derive(Clone)]
pub struct BlobService {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: CapabilityIssuer,
    /// The blob store's base URL as clients reach it.
    public_url: String,
    /// The blob store's base URL as this gateway reaches it.
    internal_url: String,
    settings: BlobSettings,
    /// The embedded blob store, when this process runs one.
    embedded: Option<passerelle_blobstore::StopHandle>,
}

impl BlobService {
    pub fn new(
        issuer: CapabilityIssuer,
        settings: BlobSettings,
        public_url: String,
        internal_url: String,
        embedded: Option<passerelle_blobstore::StopHandle>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuer,
                public_url,
                internal_url,
                settings,
                embedded,
            }),
        }
    }

    /// Stops the embedded blob store (if any), letting transfers in flight
    /// finish.
    pub async fn stop(&self) {
        if let Some(stop) = &self.inner.embedded {
            stop.stop(true).await;
        }
    }

    pub fn settings(&self) -> &BlobSettings {
        &self.inner.settings
    }

    /// Where blob `id` lives, as clients reach it.
    pub fn url_of(&self, id: &str) -> String {
        format!("{}/v1/blobs/{id}", self.inner.public_url)
    }

    /// Where blob `id` lives, as this gateway reaches it.
    pub fn internal_url_of(&self, id: &str) -> String {
        format!("{}/v1/blobs/{id}", self.inner.internal_url)
    }

    /// A signed capability for `op` on blob `id`, granted to `user` (nil
    /// for the gateway's own deletions).
    pub fn grant(
        &self,
        user: Uuid,
        id: &str,
        op: BlobOp,
        max_bytes: Option<u64>,
        sha256: Option<String>,
    ) -> Result<BlobGrant, ApiError> {
        let ttl = match op {
            BlobOp::Put => self.inner.settings.upload_ttl_secs,
            BlobOp::Get => self.inner.settings.download_ttl_secs,
            BlobOp::Delete => 60,
        };
        let issued = self.inner.issuer.issue(Grant {
            user,
            blob: id.to_owned(),
            op,
            ttl: Duration::from_secs(ttl.max(1)),
            max_bytes,
            sha256,
        })?;
        Ok(BlobGrant {
            blob_id: id.to_owned(),
            url: self.url_of(id),
            token: issued.token,
            expires_at: DateTime::<Utc>::from_timestamp(issued.expires_at, 0).unwrap_or_default(),
            max_bytes,
        })
    }
}

/// Whether `id` is a blob id the blob store accepts: 1 to 128 of
/// `[A-Za-z0-9_-]`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `s` is a SHA-256 as 64 lowercase hex digits.
pub fn valid_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
