//! Bodies of `/v1/blobs`: asking the gateway for a capability to upload a
//! blob to the blob store, or to download one. The bytes themselves never
//! come here: the client sends them to the blob store's `url` with the
//! capability as its bearer token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a blob is for; it decides who may download it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BlobPurpose {
    /// The encrypted body of a message: downloadable by the members who
    /// may read a message carrying it.
    Message,
    /// A file attached to a message: the same rule.
    Attachment,
    /// A profile picture: downloadable by whoever may see the owner's
    /// profile, once it is the owner's `avatarBlobId`.
    Avatar,
}

/// `POST /v1/blobs`: a capability to upload one new blob.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadRequest {
    pub purpose: BlobPurpose,
    /// The size of the (encrypted) bytes to upload: 1 to `blobs.max_bytes`.
    /// The upload may not be longer.
    pub size: u64,
    /// The SHA-256 of those bytes, 64 lowercase hex digits. When given, the
    /// blob store refuses any other bytes; when not, the upload must carry
    /// an `x-content-sha256` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A capability for one blob: send `Authorization: Bearer <token>` to
/// `url` (`PUT` for an upload grant; `GET`, ranges included, or `HEAD` for
/// a download grant) before `expiresAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlobGrant {
    pub blob_id: String,
    /// The blob's address in the blob store.
    pub url: String,
    /// The capability (a short-lived token for this blob and this
    /// operation only). Keep it as secret as an access token.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Upload grants: the most bytes the upload may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub max_bytes: Option<u64>,
}
