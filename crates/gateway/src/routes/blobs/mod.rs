//! `/v1/blobs`: capabilities for the blob store (an upload of a new blob,
//! a download of a blob the caller may read). Only JSON passes here; the
//! bytes go between the client and the blob store.

pub mod download;
pub mod upload;
