//! Where blob bytes live: one [`Storage`] enum over the backends, so the
//! handlers never know which one runs. Each backend keeps a blob's
//! metadata ([`BlobMeta`]: size and SHA-256) with the blob itself (a
//! sidecar file, or S3 object metadata); there is no database.
//!
//! The contract every backend keeps:
//! - `put` streams the body through a SHA-256 and never holds more than a
//!   bounded buffer; the blob becomes visible only once complete and
//!   checked ([`check_upload`]), and never replaces an existing blob
//!   ([`BlobError::Exists`]); on any failure nothing is left behind.
//! - `read` streams `start..end` of a blob.
//! - `delete` is idempotent.

mod local;
mod s3;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::BoxStream;

pub use local::LocalStore;
pub use s3::S3Store;

use crate::config::{BackendKind, StorageSettings};
use crate::digest::{Hasher, Sha256Hex};
use crate::error::BlobError;
use crate::id::BlobId;

/// What the store knows about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub sha256: Sha256Hex,
}

/// An upload the handler has accepted: the id, the announced length and
/// the digest the bytes must have.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: BlobId,
    pub len: u64,
    pub sha256: Sha256Hex,
}

/// A download's bytes.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// The bytes a backend may read as many chunks as arrive.
pub trait BodyStream: Stream<Item = Result<Bytes, BlobError>> + Unpin {}
impl<T: Stream<Item = Result<Bytes, BlobError>> + Unpin> BodyStream for T {}

/// The configured backend.
#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalStore),
    S3(S3Store),
}

impl Storage {
    /// Opens the backend the settings name (creates the local directory;
    /// builds the S3 client without calling it).
    pub async fn open(settings: &StorageSettings) -> Result<Self, BlobError> {
        Ok(match settings.backend {
            BackendKind::Local => Self::Local(LocalStore::open(&settings.local.dir).await?),
            BackendKind::S3 => Self::S3(S3Store::open(&settings.s3)?),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::S3(_) => "s3",
        }
    }

    pub async fn meta(&self, id: &BlobId) -> Result<Option<BlobMeta>, BlobError> {
        match self {
            Self::Local(s) => s.meta(id).await,
            Self::S3(s) => s.meta(id).await,
        }
    }

    pub async fn put(&self, upload: &Upload, body: impl BodyStream) -> Result<(), BlobError> {
        match self {
            Self::Local(s) => s.put(upload, body).await,
            Self::S3(s) => s.put(upload, body).await,
        }
    }

    /// Bytes `start..end` of the blob (`end` at most its size).
    pub async fn read(&self, id: &BlobId, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        if start >= end {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        match self {
            Self::Local(s) => s.read(id, start, end).await,
            Self::S3(s) => s.read(id, start, end).await,
        }
    }

    pub async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        match self {
            Self::Local(s) => s.delete(id).await,
            Self::S3(s) => s.delete(id).await,
        }
    }
}

/// Adds a chunk to the running hash, refusing more bytes than announced.
pub(crate) fn take_chunk(
    hasher: &mut Hasher,
    chunk: &[u8],
    upload: &Upload,
) -> Result<(), BlobError> {
    hasher.update(chunk);
    if hasher.len() > upload.len {
        return Err(BlobError::DigestMismatch(
            "the body is longer than its Content-Length",
        ));
    }
    Ok(())
}

/// The end of an upload: exactly the announced length, with the announced
/// digest.
pub(crate) fn check_upload(hasher: Hasher, upload: &Upload) -> Result<(), BlobError> {
    if hasher.len() != upload.len {
        return Err(BlobError::DigestMismatch(
            "the body is shorter than its Content-Length",
        ));
    }
    if hasher.finish() != upload.sha256 {
        return Err(BlobError::DigestMismatch(
            "the body's SHA-256 is not the announced one; nothing was stored",
        ));
    }
    Ok(())
}
