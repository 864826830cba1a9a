//! The local-filesystem backend (the embedded default).
//!
//! Layout under the root: `<xx>/<id>/data` and `<xx>/<id>/meta.json`,
//! where `xx` is the first byte of SHA-256(id) in hex (256 shards, so no
//! directory grows huge), and `tmp/` for uploads in progress.
//!
//! An upload is written to a fresh directory `tmp/<uuid>/` (data, then
//! metadata, each fsynced), which is then renamed to `<xx>/<id>`. Renaming
//! a directory onto an existing, non-empty one fails atomically, so the
//! rename is both the commit (data and metadata appear together, complete)
//! and the create-only check (of two racing uploads, one wins). A delete
//! renames the blob's directory into `tmp/` first, so a blob disappears at
//! once and whole. Needs a POSIX filesystem (rename(2) semantics).

use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::fs;
use tokio::io::AsyncWriteExt;

use super::{BlobMeta, BodyStream, ByteStream, Upload, check_upload, take_chunk};
use crate::digest::{Hasher, Sha256Hex};
use crate::error::BlobError;
use crate::id::BlobId;

/// Bytes read from disk per chunk of a download.
const READ_CHUNK: usize = 128 * 1024;
/// Leftovers in `tmp/` older than this (a crash mid-upload) are removed at
/// start. Long enough that another process sharing the directory is never
/// disturbed mid-upload.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct MetaFile {
    size: u64,
    sha256: String,
}

impl LocalStore {
    pub async fn open(root: &Path) -> Result<Self, BlobError> {
        fs::create_dir_all(root.join("tmp")).await?;
        let store = Self {
            root: root.to_path_buf(),
        };
        store.remove_stale_tmp().await;
        Ok(store)
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp").join(uuid::Uuid::new_v4().to_string())
    }

    fn shard(&self, id: &BlobId) -> PathBuf {
        let hash = Sha256::digest(id.as_str().as_bytes());
        self.root.join(format!("{:02x}", hash[0]))
    }

    fn blob_dir(&self, id: &BlobId) -> PathBuf {
        self.shard(id).join(id.as_str())
    }

    pub async fn meta(&self, id: &BlobId) -> Result<Option<BlobMeta>, BlobError> {
        let raw = match fs::read(self.blob_dir(id).join("meta.json")).await {
            Ok(raw) => raw,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let meta: MetaFile = serde_json::from_slice(&raw)
            .map_err(|e| BlobError::Internal(format!("metadata of blob {id}: {e}")))?;
        let sha256 = Sha256Hex::parse(&meta.sha256)
            .ok_or_else(|| BlobError::Internal(format!("metadata of blob {id}: bad digest")))?;
        Ok(Some(BlobMeta {
            size: meta.size,
            sha256,
        }))
    }

    pub async fn put(&self, upload: &Upload, body: impl BodyStream) -> Result<(), BlobError> {
        let tmp = self.tmp();
        fs::create_dir(&tmp).await?;
        let result = self.write_and_commit(&tmp, upload, body).await;
        if result.is_err() {
            // Nothing of a refused or failed upload stays.
            if let Err(e) = fs::remove_dir_all(&tmp).await
                && e.kind() != ErrorKind::NotFound
            {
                tracing::warn!(error = %e, "could not remove a failed upload's files");
            }
        }
        result
    }

    async fn write_and_commit(
        &self,
        tmp: &Path,
        upload: &Upload,
        mut body: impl BodyStream,
    ) -> Result<(), BlobError> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp.join("data"))
            .await?;
        let mut hasher = Hasher::default();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            take_chunk(&mut hasher, &chunk, upload)?;
            file.write_all(&chunk).await?;
        }
        check_upload(hasher, upload)?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let meta = serde_json::to_vec(&MetaFile {
            size: upload.len,
            sha256: upload.sha256.as_str().to_owned(),
        })
        .map_err(|e| BlobError::Internal(e.to_string()))?;
        let mut file = fs::File::create(tmp.join("meta.json")).await?;
        file.write_all(&meta).await?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let shard = self.shard(&upload.id);
        let target = shard.join(upload.id.as_str());
        let (tmp, shard_for_sync) = (tmp.to_path_buf(), shard.clone());
        tokio::task::spawn_blocking(move || -> Result<(), BlobError> {
            sync_dir(&tmp)?;
            std::fs::create_dir_all(&shard)?;
            match std::fs::rename(&tmp, &target) {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::AlreadyExists | ErrorKind::DirectoryNotEmpty
                    ) =>
                {
                    return Err(BlobError::Exists);
                }
                Err(e) => return Err(e.into()),
            }
            sync_dir(&shard_for_sync)?;
            Ok(())
        })
        .await
        .map_err(|e| BlobError::Internal(format!("commit task: {e}")))?
    }

    /// Streams `start..end` of the blob. The file is opened, positioned and
    /// its first chunk read in one blocking task (a small blob is one trip
    /// to the blocking pool), each further chunk in one more; chunks are
    /// read straight into the buffer that is sent (no zero-fill, no second
    /// copy through `tokio::fs::File`'s own buffer).
    pub async fn read(&self, id: &BlobId, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        let path = self.blob_dir(id).join("data");
        let opened = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            let mut file = std::fs::File::open(&path)?;
            file.seek(SeekFrom::Start(start))?;
            let first = read_chunk(&mut file, end - start)?;
            Ok((file, first))
        })
        .await
        .map_err(|e| BlobError::Internal(format!("read task: {e}")))?;
        let (file, first) = match opened {
            Ok(opened) => opened,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let left = end - start - first.len() as u64;
        let rest =
            futures_util::stream::try_unfold((Some(file), left), |(file, left)| async move {
                let Some(mut file) = file.filter(|_| left > 0) else {
                    return Ok(None);
                };
                let (file, chunk) = tokio::task::spawn_blocking(move || {
                    let chunk = read_chunk(&mut file, left);
                    (file, chunk)
                })
                .await
                .map_err(std::io::Error::other)?;
                let chunk = chunk?;
                let left = left - chunk.len() as u64;
                Ok(Some((chunk, (Some(file), left))))
            });
        Ok(Box::pin(
            futures_util::stream::once(async move { Ok(first) }).chain(rest),
        ))
    }

    pub async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        let grave = self.tmp();
        match fs::rename(self.blob_dir(id), &grave).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        fs::remove_dir_all(&grave).await?;
        Ok(())
    }

    async fn remove_stale_tmp(&self) {
        let Ok(mut entries) = fs::read_dir(self.root.join("tmp")).await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let stale = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > STALE_TMP);
            if stale && let Err(e) = fs::remove_dir_all(entry.path()).await {
                tracing::warn!(error = %e, "could not remove a stale upload");
            }
        }
    }
}

/// Reads the next chunk of at most [`READ_CHUNK`] and `left` bytes into a
/// fresh buffer; an end of file before `left` is an error (the blob file is
/// shorter than its metadata says).
fn read_chunk(file: &mut std::fs::File, left: u64) -> std::io::Result<Bytes> {
    let want = left.min(READ_CHUNK as u64);
    let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(READ_CHUNK));
    file.take(want).read_to_end(&mut buf)?;
    if (buf.len() as u64) < want {
        return Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            "blob file shorter than its metadata",
        ));
    }
    Ok(Bytes::from(buf))
}

/// fsyncs a directory, so a rename into or out of it is durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
