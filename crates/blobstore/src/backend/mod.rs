//! Where blob bytes live: one [`Storage`] enum over the backends, so the
//! handlers never know which one runs. Each backend keeps a blob's
//! metadata ([`BlobMeta`]: size and SHA-256) with the blob itself (a
//! header in the blob's file, or S3 object metadata); there is no database.
//!
//! The contract every backend keeps:
//! - `put` streams the body through a SHA-256 and never holds more than a
//!   bounded buffer; the blob becomes visible only once complete and
//!   checked ([`check_upload`]), and never replaces an existing blob
//!   ([`BlobError::Exists`], checked once before the body is read and
//!   again, atomically, at the commit); on any failure nothing is left
//!   behind.
//! - `open` returns a blob's metadata (and, locally, its open file and
//!   first bytes); `read` then streams `start..end` of what was opened.
//! - `delete` is idempotent.

mod local;
mod s3;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::BoxStream;

pub use local::{LocalBlob, LocalStore};
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

/// A blob opened for a download or a HEAD: its metadata, and what the
/// backend needs to stream it.
#[derive(Debug)]
pub struct OpenBlob {
    pub meta: BlobMeta,
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// The open file (a deleted blob's bytes stay readable until the end).
    Local(LocalBlob),
    /// A ranged GET per read.
    S3,
}

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
            BackendKind::Local => {
                Self::Local(LocalStore::open(&settings.local.dir, settings.local.fsync).await?)
            }
            BackendKind::S3 => Self::S3(S3Store::open(&settings.s3)?),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::S3(_) => "s3",
        }
    }

    /// Opens a blob: `None` if there is none. With `prefetch` (a GET, not
    /// a HEAD), the local backend reads its first bytes with its header.
    pub async fn open_blob(
        &self,
        id: &BlobId,
        prefetch: bool,
    ) -> Result<Option<OpenBlob>, BlobError> {
        Ok(match self {
            Self::Local(s) => s
                .open_blob(id, prefetch)
                .await?
                .map(|(meta, blob)| OpenBlob {
                    meta,
                    source: Source::Local(blob),
                }),
            Self::S3(s) => s.meta(id).await?.map(|meta| OpenBlob {
                meta,
                source: Source::S3,
            }),
        })
    }

    /// Stores an upload, create-only: an existing id is refused with
    /// [`BlobError::Exists`] before the body is read.
    pub async fn put(&self, upload: &Upload, body: impl BodyStream) -> Result<(), BlobError> {
        match self {
            Self::Local(s) => s.put(upload, body).await,
            Self::S3(s) => {
                if s.meta(&upload.id).await?.is_some() {
                    return Err(BlobError::Exists);
                }
                s.put(upload, body).await
            }
        }
    }

    /// Bytes `start..end` of an opened blob (`end` at most its size).
    pub async fn read(
        &self,
        id: &BlobId,
        blob: OpenBlob,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, BlobError> {
        if start >= end {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        match (self, blob.source) {
            (Self::Local(s), Source::Local(blob)) => Ok(s.stream(blob, start, end)),
            (Self::S3(s), Source::S3) => s.read(id, start, end).await,
            _ => Err(BlobError::Internal(
                "a blob opened by another backend".into(),
            )),
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
