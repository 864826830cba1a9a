//! The local-filesystem backend (the embedded default): one file per blob,
//! its size and digest in a fixed header at the start of that file.
//!
//! # Layout (version 2)
//!
//! Under the root: `<xx>/<id>`, where `xx` is the first byte of
//! SHA-256(id) in hex (256 shard directories, all created at start, so no
//! directory grows huge); `tmp/` for the temp files of filesystems without
//! `O_TMPFILE`; `LAYOUT`, which names this layout. A blob file is a
//! [`HEADER_LEN`]-byte header, then the blob's bytes:
//!
//! | offset | bytes | content |
//! |---|---|---|
//! | 0 | 8 | magic `PBLOB\0v2` |
//! | 8 | 8 | size, u64 little-endian |
//! | 16 | 64 | SHA-256, lowercase hex |
//! | 80 | 16 | zero (reserved) |
//!
//! A header rather than an extended attribute: it comes with the data in
//! the same read (a small download is one `pread`), works on every
//! filesystem (user xattrs are off on some mounts, and absent from tmpfs
//! before Linux 6.6) and survives any copy or backup tool.
//!
//! Version 1 (`<xx>/<id>/data` + `meta.json`) was never released; a root
//! holding it is refused at start with a clear message rather than read.
//!
//! # Upload
//!
//! The create-only check (the name must not exist) comes first, before the
//! body is read. The bytes go to an anonymous file in the blob's shard
//! (`O_TMPFILE`), header first; once the body has its announced length and
//! digest, the file is `fdatasync`ed and given its name with `linkat(2)`,
//! which fails with `EEXIST` when the name exists: the link is both the
//! commit (the blob appears complete, or not at all) and the create-only
//! guarantee (of two racing uploads exactly one wins). Then the shard is
//! fsynced, so the name is durable. One inode, two fsyncs. A crash before
//! the link leaves nothing (the kernel frees an unnamed inode); a refused
//! upload's file is closed, and so gone. Where `O_TMPFILE` does not work
//! (probed at start), the file is a named one in `tmp/`, linked the same
//! way and then unlinked; a crash may leave it there, and leftovers older
//! than [`STALE_TMP`] are removed at start.
//!
//! With `storage.local.fsync = false` both fsyncs are skipped: faster, but
//! a power loss may lose blobs acknowledged in the last seconds, or leave
//! them with unwritten (zero) bytes. For benchmarks and disposable data.
//!
//! # Download
//!
//! Opening a blob reads its header and its first bytes in one `pread`. On
//! the async worker first, without ever blocking on the disk:
//! `openat2(RESOLVE_CACHED)` resolves the name only from the kernel's
//! dentry cache and `preadv2(RWF_NOWAIT)` reads only what is in the page
//! cache; either one failing with `EAGAIN` sends that step to the blocking
//! pool. So a download of cached data makes no thread hand-off at all,
//! and a cold one blocks a pool thread, never the worker.
//!
//! # Delete
//!
//! `unlinkat(2)`: atomic (an open download keeps its file until it ends)
//! and idempotent.

use std::io::{ErrorKind, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use rustix::fs::{AtFlags, CWD, Mode, OFlags, ResolveFlags};
use rustix::io::{Errno, ReadWriteFlags};
use sha2::{Digest, Sha256};

use super::{BlobMeta, BodyStream, ByteStream, Upload, check_upload, take_chunk};
use crate::digest::{Hasher, Sha256Hex};
use crate::error::BlobError;
use crate::id::BlobId;

/// Bytes before a blob's data in its file.
pub const HEADER_LEN: usize = 96;
const MAGIC: &[u8; 8] = b"PBLOB\0v2";
/// The file at the root that names the layout.
const LAYOUT_FILE: &str = "LAYOUT";
const LAYOUT: &str = "passerelle-blobstore local layout 2: <xx>/<id>, 96-byte header\n";
/// What opening a blob for a download reads at once: its header and, for
/// a small blob, all of it.
const FIRST_READ: usize = 32 * 1024;
/// Bytes read per chunk of a download after the first.
const READ_CHUNK: usize = 512 * 1024;
/// An upload's bytes are written in batches of about this size (one
/// `writev` on the blocking pool each), while the next batch is received.
const WRITE_BATCH: usize = 1024 * 1024;
/// Leftovers in `tmp/` older than this (a crash mid-upload) are removed at
/// start. Long enough that another process sharing the directory is never
/// disturbed mid-upload.
const STALE_TMP: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct LocalStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The root directory, open: every path below is relative to it.
    dir: OwnedFd,
    /// Whether uploads are fsynced (`storage.local.fsync`).
    fsync: bool,
    /// Whether `O_TMPFILE` + `linkat` work here (probed at start); if not,
    /// uploads go through named files in `tmp/`.
    tmpfile: bool,
}

/// A blob opened for a download: its file and the bytes already read.
#[derive(Debug)]
pub struct LocalBlob {
    file: Arc<OwnedFd>,
    /// The blob's first bytes (up to all of it).
    first: Bytes,
}

impl LocalStore {
    /// Opens (creating if needed) the store at `root`; `fsync` is
    /// `storage.local.fsync`.
    pub async fn open(root: &Path, fsync: bool) -> Result<Self, BlobError> {
        let root = root.to_path_buf();
        let inner = blocking(move || Inner::open(&root, fsync)).await??;
        if !inner.tmpfile {
            tracing::warn!("O_TMPFILE does not work here: uploads use named temp files in tmp/");
        }
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Uploads through named temp files even where `O_TMPFILE` works.
    #[cfg(test)]
    fn without_tmpfile(self) -> Self {
        let inner = &self.inner;
        let dir = inner.dir.try_clone().expect("dup");
        Self {
            inner: Arc::new(Inner {
                dir,
                fsync: inner.fsync,
                tmpfile: false,
            }),
        }
    }

    /// Whether a blob has this id, from the dentry cache on the worker:
    /// `None` when the cache cannot say (or the kernel lacks `openat2`).
    fn exists_cached(&self, rel: &str) -> Option<bool> {
        let flags = OFlags::PATH | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        match rustix::fs::openat2(&self.inner.dir, rel, flags, Mode::empty(), cached()) {
            Ok(_) => Some(true),
            Err(Errno::NOENT) => Some(false),
            Err(_) => None,
        }
    }

    /// Whether a blob has this id.
    pub async fn exists(&self, id: &BlobId) -> Result<bool, BlobError> {
        let rel = rel_path(id);
        if let Some(known) = self.exists_cached(&rel) {
            return Ok(known);
        }
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.exists(&rel)).await?
    }

    /// Opens a blob: its metadata and, with `prefetch`, its first bytes.
    pub async fn open_blob(
        &self,
        id: &BlobId,
        prefetch: bool,
    ) -> Result<Option<(BlobMeta, LocalBlob)>, BlobError> {
        let rel = rel_path(id);
        let want = if prefetch { FIRST_READ } else { HEADER_LEN };
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let fd = match rustix::fs::openat2(&self.inner.dir, &rel, flags, Mode::empty(), cached()) {
            Ok(fd) => Some(fd),
            Err(Errno::NOENT) => return Ok(None),
            Err(_) => None,
        };
        let head = match &fd {
            Some(fd) => read_nowait(fd, want, 0)?,
            None => None,
        };
        let (fd, head) = match (fd, head) {
            (Some(fd), Some(head)) if head.len() >= HEADER_LEN.min(want) => (fd, head),
            (fd, _) => {
                let inner = Arc::clone(&self.inner);
                let opened = blocking(move || -> std::io::Result<_> {
                    let fd = match fd {
                        Some(fd) => fd,
                        None => match rustix::fs::openat(&inner.dir, &rel, flags, Mode::empty()) {
                            Ok(fd) => fd,
                            Err(Errno::NOENT) => return Ok(None),
                            Err(e) => return Err(e.into()),
                        },
                    };
                    let head = read_blocking(&fd, want, 0)?;
                    Ok(Some((fd, head)))
                })
                .await??;
                match opened {
                    Some(opened) => opened,
                    None => return Ok(None),
                }
            }
        };
        let meta = parse_header(&head).ok_or_else(|| {
            BlobError::Internal(format!("blob {id}: not a blob file (bad header)"))
        })?;
        let data_end = HEADER_LEN.saturating_add(usize::try_from(meta.size).unwrap_or(usize::MAX));
        let first = Bytes::from(head).slice(HEADER_LEN..);
        let first = first.slice(..first.len().min(data_end - HEADER_LEN));
        Ok(Some((
            meta,
            LocalBlob {
                file: Arc::new(fd),
                first,
            },
        )))
    }

    /// Streams bytes `start..end` of an opened blob: what was read with the
    /// header first, then chunks of [`READ_CHUNK`], each read on the worker
    /// if it is in the page cache, else on the blocking pool.
    pub fn stream(&self, blob: LocalBlob, start: u64, end: u64) -> ByteStream {
        let LocalBlob { file, first } = blob;
        let have = first.len() as u64;
        let head = if start < have {
            let (a, b) = (start as usize, end.min(have) as usize);
            Some(first.slice(a..b))
        } else {
            None
        };
        let from = start.max(have);
        let rest = futures_util::stream::try_unfold(from, move |pos| {
            let file = Arc::clone(&file);
            async move {
                if pos >= end {
                    return Ok(None);
                }
                let want = usize::try_from(end - pos)
                    .unwrap_or(READ_CHUNK)
                    .min(READ_CHUNK);
                let offset = HEADER_LEN as u64 + pos;
                let chunk = match read_nowait(&file, want, offset)? {
                    Some(chunk) if !chunk.is_empty() => chunk,
                    _ => blocking(move || read_blocking(&file, want, offset))
                        .await
                        .map_err(std::io::Error::other)??,
                };
                if chunk.is_empty() {
                    return Err(std::io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "blob file shorter than its header says",
                    ));
                }
                let next = pos + chunk.len() as u64;
                Ok(Some((Bytes::from(chunk), next)))
            }
        });
        match head {
            Some(head) => Box::pin(futures_util::stream::once(async move { Ok(head) }).chain(rest)),
            None => Box::pin(rest),
        }
    }

    /// Stores an upload (see the module doc). The create-only check (unless
    /// the dentry cache answers it) and the temp file's creation take one
    /// trip to the blocking pool before the body is read; then each [`WRITE_BATCH`] of the body one (written
    /// while the next is received), the last one with the commit.
    pub async fn put(&self, upload: &Upload, mut body: impl BodyStream) -> Result<(), BlobError> {
        let rel = rel_path(&upload.id);
        // The create-only check: from the dentry cache if it knows, else
        // in the same pool trip that creates the file.
        let known = self.exists_cached(&rel);
        if known == Some(true) {
            return Err(BlobError::Exists);
        }
        let inner = Arc::clone(&self.inner);
        let mut idle = Some(
            blocking(move || {
                if known.is_none() && inner.exists(&rel)? {
                    return Err(BlobError::Exists);
                }
                Writer::create(inner, rel)
            })
            .await??,
        );
        let mut busy: Option<tokio::task::JoinHandle<(Writer, std::io::Result<()>)>> = None;
        let mut hasher = Hasher::default();
        let mut batch = vec![Bytes::copy_from_slice(&header(upload))];
        let mut batched = HEADER_LEN;
        let received: Result<(), BlobError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                take_chunk(&mut hasher, &chunk, upload)?;
                batched += chunk.len();
                batch.push(chunk);
                if batched >= WRITE_BATCH {
                    let mut writer = settle(&mut idle, &mut busy).await?;
                    let bufs = std::mem::take(&mut batch);
                    batched = 0;
                    busy = Some(tokio::task::spawn_blocking(move || {
                        let written = writer.write_all(&bufs);
                        (writer, written)
                    }));
                }
            }
            Ok(())
        }
        .await;
        let checked = received.and_then(|()| check_upload(hasher, upload));
        // A refused upload's file goes when its writer drops (after any
        // write still running).
        let settled = settle(&mut idle, &mut busy).await;
        checked?;
        let mut writer = settled?;
        blocking(move || {
            writer.write_all(&batch)?;
            writer.commit()
        })
        .await?
    }

    pub async fn delete(&self, id: &BlobId) -> Result<(), BlobError> {
        let inner = Arc::clone(&self.inner);
        let rel = rel_path(id);
        blocking(
            move || match rustix::fs::unlinkat(&inner.dir, &rel, AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => Ok(()),
                Err(e) => Err(BlobError::from(std::io::Error::from(e))),
            },
        )
        .await?
    }
}

impl Inner {
    fn exists(&self, rel: &str) -> Result<bool, BlobError> {
        match rustix::fs::statat(&self.dir, rel, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(std::io::Error::from(e).into()),
        }
    }

    fn open(root: &Path, fsync: bool) -> Result<Self, BlobError> {
        std::fs::create_dir_all(root.join("tmp"))?;
        check_layout(root)?;
        for shard in 0..=255u8 {
            match std::fs::create_dir(root.join(format!("{shard:02x}"))) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let dir = rustix::fs::open(root, flags, Mode::empty()).map_err(std::io::Error::from)?;
        if fsync {
            rustix::fs::fsync(&dir).map_err(std::io::Error::from)?;
        }
        remove_stale_tmp(&root.join("tmp"));
        let tmpfile = probe_tmpfile(&dir);
        Ok(Self {
            dir,
            fsync,
            tmpfile,
        })
    }
}

/// Refuses a root holding the never-released version 1 layout, and marks a
/// fresh root with [`LAYOUT`].
fn check_layout(root: &Path) -> Result<(), BlobError> {
    let marker = root.join(LAYOUT_FILE);
    match std::fs::read_to_string(&marker) {
        Ok(text) if text == LAYOUT => return Ok(()),
        Ok(_) => {
            return Err(BlobError::Internal(format!(
                "{}: an unknown blob layout; this version writes \"{}\"",
                marker.display(),
                LAYOUT.trim_end()
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let old = std::fs::read_dir(root)?
        .filter_map(Result::ok)
        .any(|entry| entry.file_name() != "tmp");
    if old {
        return Err(BlobError::Internal(format!(
            "{} holds blobs in an earlier, unreleased layout (<xx>/<id>/data + meta.json) \
             that this version does not read; empty it or point storage.local.dir elsewhere",
            root.display()
        )));
    }
    let tmp = root.join(format!("tmp/{LAYOUT_FILE}.{}", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, LAYOUT)?;
    std::fs::rename(&tmp, &marker)?;
    Ok(())
}

/// Whether an anonymous file (`O_TMPFILE`) can be created and then linked
/// by its `/proc/self/fd` path here.
fn probe_tmpfile(dir: &OwnedFd) -> bool {
    let name = format!("tmp/probe.{}", uuid::Uuid::new_v4());
    let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
    let Ok(file) = rustix::fs::openat(dir, "tmp", flags, Mode::from_raw_mode(0o600)) else {
        return false;
    };
    let linked = link_anonymous(&file, dir, &name).is_ok();
    if linked {
        let _ = rustix::fs::unlinkat(dir, &name, AtFlags::empty());
    }
    linked
}

/// Names an anonymous file through its `/proc/self/fd` link (`linkat`
/// with `AT_EMPTY_PATH` would need `CAP_DAC_READ_SEARCH`).
fn link_anonymous(file: &impl AsRawFd, dir: &OwnedFd, name: &str) -> rustix::io::Result<()> {
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::fs::linkat(CWD, &proc_path, dir, name, AtFlags::SYMLINK_FOLLOW)
}

/// An upload's file until it is committed: anonymous, or named in `tmp/`
/// (then removed on drop unless committed).
struct Writer {
    inner: Arc<Inner>,
    file: std::fs::File,
    /// The blob's path, `<xx>/<id>`.
    rel: String,
    /// `tmp/<uuid>` when the file has a name of its own.
    named: Option<String>,
}

impl Writer {
    fn create(inner: Arc<Inner>, rel: String) -> Result<Self, BlobError> {
        let mode = Mode::from_raw_mode(0o600);
        let (fd, named) = if inner.tmpfile {
            let shard = rel.split('/').next().unwrap_or(".");
            let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(&inner.dir, shard, flags, mode);
            (fd, None)
        } else {
            let name = format!("tmp/{}", uuid::Uuid::new_v4());
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(&inner.dir, &name, flags, mode);
            (fd, Some(name))
        };
        let fd = fd.map_err(std::io::Error::from)?;
        Ok(Self {
            inner,
            file: std::fs::File::from(fd),
            rel,
            named,
        })
    }

    /// Writes every buffer, with as few `writev`s as the kernel allows.
    fn write_all(&mut self, bufs: &[Bytes]) -> std::io::Result<()> {
        let mut slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
        let mut slices = &mut slices[..];
        while !slices.is_empty() {
            match self.file.write_vectored(slices) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut slices, n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Syncs the data, gives the file the blob's name (create-only), syncs
    /// the shard.
    fn commit(mut self) -> Result<(), BlobError> {
        if self.inner.fsync {
            self.file.sync_data()?;
        }
        let dir = &self.inner.dir;
        let linked = match &self.named {
            None => link_anonymous(&self.file, dir, &self.rel),
            Some(tmp) => rustix::fs::linkat(dir, tmp, dir, &self.rel, AtFlags::empty()),
        };
        match linked {
            Ok(()) => {}
            Err(Errno::EXIST) => return Err(BlobError::Exists),
            Err(e) => return Err(std::io::Error::from(e).into()),
        }
        if let Some(tmp) = self.named.take() {
            // The blob is committed; a leftover name would only cost space
            // until the next start.
            let _ = rustix::fs::unlinkat(dir, &tmp, AtFlags::empty());
        }
        if self.inner.fsync {
            let shard = self.rel.split('/').next().unwrap_or(".");
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let shard = rustix::fs::openat(dir, shard, flags, Mode::empty())
                .map_err(std::io::Error::from)?;
            rustix::fs::fsync(&shard).map_err(std::io::Error::from)?;
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(tmp) = self.named.take()
            && let Err(e) = rustix::fs::unlinkat(&self.inner.dir, &tmp, AtFlags::empty())
        {
            tracing::warn!(error = %e, "could not remove a refused upload's temp file");
        }
    }
}

/// The writer once the write in flight (if any) has finished.
async fn settle(
    idle: &mut Option<Writer>,
    busy: &mut Option<tokio::task::JoinHandle<(Writer, std::io::Result<()>)>>,
) -> Result<Writer, BlobError> {
    if let Some(task) = busy.take() {
        let (writer, written) = task
            .await
            .map_err(|e| BlobError::Internal(format!("write task: {e}")))?;
        written?;
        return Ok(writer);
    }
    idle.take()
        .ok_or_else(|| BlobError::Internal("upload writer lost".into()))
}

/// `<xx>/<id>`.
fn rel_path(id: &BlobId) -> String {
    let hash = Sha256::digest(id.as_str().as_bytes());
    format!("{:02x}/{}", hash[0], id.as_str())
}

fn cached() -> ResolveFlags {
    ResolveFlags::CACHED | ResolveFlags::NO_MAGICLINKS
}

fn header(upload: &Upload) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..16].copy_from_slice(&upload.len.to_le_bytes());
    h[16..80].copy_from_slice(upload.sha256.as_str().as_bytes());
    h
}

fn parse_header(head: &[u8]) -> Option<BlobMeta> {
    if head.len() < HEADER_LEN || &head[..8] != MAGIC {
        return None;
    }
    let size = u64::from_le_bytes(head[8..16].try_into().ok()?);
    let sha256 = Sha256Hex::parse(std::str::from_utf8(&head[16..80]).ok()?)?;
    Some(BlobMeta { size, sha256 })
}

/// Up to `want` bytes at `offset`, only from the page cache: `None` when
/// that would block on the disk (or the kernel lacks `RWF_NOWAIT`). The
/// buffer is zero-filled first (safe Rust cannot hand the kernel
/// uninitialised memory through `preadv2`).
fn read_nowait(fd: &OwnedFd, want: usize, offset: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; want];
    let mut got = 0;
    while got < want {
        let mut iov = [IoSliceMut::new(&mut buf[got..])];
        match rustix::io::preadv2(fd, &mut iov, offset + got as u64, ReadWriteFlags::NOWAIT) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN | Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) if got == 0 => {
                return Ok(None);
            }
            Err(Errno::AGAIN) => break,
            Err(e) => return Err(e.into()),
        }
    }
    buf.truncate(got);
    Ok(Some(buf))
}

/// Up to `want` bytes at `offset` (fewer only at the end of the file),
/// read straight into uninitialised capacity (no zero-fill).
fn read_blocking(fd: &OwnedFd, want: usize, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(want);
    while buf.len() < want {
        let at = offset + buf.len() as u64;
        let before = buf.len();
        match rustix::io::pread(fd, rustix::buffer::spare_capacity(&mut buf), at) {
            Ok(0) => break,
            Ok(_) => debug_assert!(buf.len() > before),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(buf)
}

/// Removes leftovers in `tmp/` older than [`STALE_TMP`]: files of uploads
/// cut by a crash (named-file mode), and directories of the version 1
/// layout's uploads.
fn remove_stale_tmp(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(meta) = entry.metadata() else { continue };
        let stale = meta
            .modified()
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_TMP);
        if !stale {
            continue;
        }
        let path: PathBuf = entry.path();
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if let Err(e) = removed {
            tracing::warn!(error = %e, path = %path.display(), "could not remove a stale upload");
        }
    }
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BlobError::Internal(format!("blocking task: {e}")))
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
