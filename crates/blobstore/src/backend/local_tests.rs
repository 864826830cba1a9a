//! Unit tests of the local backend's file layout and its guarantees, on
//! the store itself (the HTTP behaviour is in `tests/blobstore`).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::TryStreamExt;

use super::*;

fn upload(id: &str, body: &[u8]) -> Upload {
    let mut h = Hasher::default();
    h.update(body);
    Upload {
        id: BlobId::parse(id).expect("id"),
        len: body.len() as u64,
        sha256: h.finish(),
    }
}

/// The body in chunks of `chunk` bytes, as the HTTP layer hands it over.
fn body(bytes: &[u8], chunk: usize) -> impl BodyStream + use<> {
    let chunks: Vec<Result<Bytes, BlobError>> = bytes
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(chunks)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn read_all(store: &LocalStore, id: &str, start: u64, end: Option<u64>) -> Vec<u8> {
    let id = BlobId::parse(id).expect("id");
    let (meta, blob) = store
        .open_blob(&id, true)
        .await
        .expect("open")
        .expect("exists");
    let end = end.unwrap_or(meta.size);
    let chunks: Vec<Bytes> = store
        .stream(blob, start, end)
        .try_collect()
        .await
        .expect("read");
    chunks.concat()
}

/// Entries of `dir` (relative to the root), sorted.
fn entries(root: &Path, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn shard_of(id: &str) -> String {
    rel_path(&BlobId::parse(id).expect("id"))
        .split('/')
        .next()
        .expect("shard")
        .to_owned()
}

async fn stores(root: &Path) -> Vec<LocalStore> {
    let store = LocalStore::open(root, true).await.expect("open");
    assert!(
        store.inner.tmpfile,
        "O_TMPFILE should work on the test disk"
    );
    vec![store.clone(), store.without_tmpfile()]
}

#[tokio::test]
async fn one_file_per_blob_with_its_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path(), true).await.expect("open");
    let data = pattern(5000, 1);
    store
        .put(&upload("one", &data), body(&data, 1000))
        .await
        .expect("put");
    let file = std::fs::read(
        dir.path()
            .join(rel_path(&BlobId::parse("one").expect("id"))),
    )
    .expect("blob file");
    assert_eq!(file.len(), HEADER_LEN + data.len());
    assert_eq!(&file[..8], MAGIC);
    assert_eq!(&file[HEADER_LEN..], &data[..]);
    assert_eq!(entries(dir.path(), &shard_of("one")), vec!["one"]);
    assert!(entries(dir.path(), "tmp").is_empty());
    assert_eq!(read_all(&store, "one", 0, None).await, data);
}

#[tokio::test]
async fn racing_uploads_exactly_one_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, store) in stores(dir.path()).await.into_iter().enumerate() {
        let id = format!("race{n}");
        let bodies: Vec<Vec<u8>> = (0..8).map(|i| pattern(40_000, i)).collect();
        let tasks: Vec<_> = bodies
            .iter()
            .map(|b| {
                let (store, up, b) = (store.clone(), upload(&id, b), b.clone());
                tokio::spawn(async move { store.put(&up, body(&b, 4096)).await })
            })
            .collect();
        let mut won = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.expect("task") {
                Ok(()) => won.push(i),
                Err(BlobError::Exists) => {}
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!(won.len(), 1, "exactly one upload wins: {won:?}");
        assert_eq!(read_all(&store, &id, 0, None).await, bodies[won[0]]);
        assert!(entries(dir.path(), "tmp").is_empty(), "no temp file left");
        // And a later one is refused before its body is read.
        let late = pattern(10, 9);
        let refused = store.put(&upload(&id, &late), body(&late, 10)).await;
        assert!(matches!(refused, Err(BlobError::Exists)));
    }
}

#[tokio::test]
async fn a_digest_mismatch_or_a_cut_body_keeps_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (n, store) in stores(dir.path()).await.into_iter().enumerate() {
        let id = format!("bad{n}");
        // Large enough that batches are written before the mismatch shows.
        let data = pattern(3 * WRITE_BATCH + 17, 2);
        let mut up = upload(&id, &data);
        up.sha256 = upload(&id, b"something else").sha256;
        let r = store.put(&up, body(&data, 64 * 1024)).await;
        assert!(matches!(r, Err(BlobError::DigestMismatch(_))), "{r:?}");
        let cut = upload(&id, &data);
        let r = store
            .put(&cut, body(&data[..data.len() - 1], 64 * 1024))
            .await;
        assert!(matches!(r, Err(BlobError::DigestMismatch(_))), "{r:?}");
        let failing = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(BlobError::DigestMismatch("cut")),
        ]);
        let r = store.put(&cut, failing).await;
        assert!(matches!(r, Err(BlobError::DigestMismatch(_))), "{r:?}");
        assert!(!store.exists(&up.id).await.expect("exists"));
        assert!(entries(dir.path(), &shard_of(&id)).is_empty());
        assert!(entries(dir.path(), "tmp").is_empty(), "no temp file left");
        // The id is still free.
        store
            .put(&cut, body(&data, 1 << 20))
            .await
            .expect("put after refusals");
    }
}

#[tokio::test]
async fn ranges_on_the_new_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path(), true).await.expect("open");
    let size = FIRST_READ + 2 * READ_CHUNK + 123;
    let data = pattern(size, 3);
    store
        .put(&upload("big", &data), body(&data, 70_000))
        .await
        .expect("put");
    let cases = [
        (0, 1),
        (0, 10),
        (5, FIRST_READ - HEADER_LEN - 1),
        (FIRST_READ - HEADER_LEN - 3, FIRST_READ + 5),
        (FIRST_READ, FIRST_READ + READ_CHUNK + 1),
        (size - 1, size),
        (1000, size),
        (0, size),
    ];
    for (a, b) in cases {
        let got = read_all(&store, "big", a as u64, Some(b as u64)).await;
        assert!(got == data[a..b], "range {a}..{b}");
    }
    // A HEAD reads only the header.
    let (meta, blob) = store
        .open_blob(&BlobId::parse("big").expect("id"), false)
        .await
        .expect("open")
        .expect("exists");
    assert_eq!(meta.size, size as u64);
    assert!(blob.first.is_empty());
    // An empty blob.
    store
        .put(&upload("empty", b""), body(b"", 1))
        .await
        .expect("put");
    assert!(read_all(&store, "empty", 0, None).await.is_empty());
}

#[tokio::test]
async fn delete_is_idempotent_and_an_open_download_finishes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path(), true).await.expect("open");
    let data = pattern(FIRST_READ * 3, 4);
    store
        .put(&upload("gone", &data), body(&data, 8192))
        .await
        .expect("put");
    let id = BlobId::parse("gone").expect("id");
    let (_, blob) = store
        .open_blob(&id, true)
        .await
        .expect("open")
        .expect("exists");
    store.delete(&id).await.expect("delete");
    store.delete(&id).await.expect("delete again");
    assert!(store.open_blob(&id, true).await.expect("open").is_none());
    let chunks: Vec<Bytes> = store
        .stream(blob, 0, data.len() as u64)
        .try_collect()
        .await
        .expect("read");
    assert_eq!(chunks.concat(), data);
}

#[tokio::test]
async fn without_fsync_it_still_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path(), false).await.expect("open");
    assert!(!store.inner.fsync);
    let data = pattern(WRITE_BATCH + 1, 5);
    store
        .put(&upload("nosync", &data), body(&data, 65536))
        .await
        .expect("put");
    assert_eq!(read_all(&store, "nosync", 0, None).await, data);
    let again = store
        .put(&upload("nosync", &data), body(&data, 65536))
        .await;
    assert!(matches!(again, Err(BlobError::Exists)));
}

#[tokio::test]
async fn stale_temp_files_are_removed_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(LocalStore::open(dir.path(), true).await.expect("open"));
    let tmp = dir.path().join("tmp");
    let day_ago = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    // A named-mode upload cut by a crash, and a version 1 upload dir.
    let old_file = tmp.join("0b6f3f3a-crashed");
    std::fs::write(&old_file, b"half a blob").expect("write");
    std::fs::File::options()
        .write(true)
        .open(&old_file)
        .expect("open")
        .set_modified(day_ago)
        .expect("mtime");
    let old_dir = tmp.join("old-upload");
    std::fs::create_dir(&old_dir).expect("mkdir");
    std::fs::write(old_dir.join("data"), b"x").expect("write");
    std::fs::File::open(&old_dir)
        .expect("open")
        .set_modified(day_ago)
        .expect("mtime");
    // One in progress (recent) is left alone.
    std::fs::write(tmp.join("in-progress"), b"y").expect("write");
    let store = LocalStore::open(dir.path(), true).await.expect("reopen");
    assert_eq!(entries(dir.path(), "tmp"), vec!["in-progress"]);
    let id = BlobId::parse("0b6f3f3a-crashed").expect("id");
    assert!(!store.exists(&id).await.expect("exists"));
}

#[tokio::test]
async fn the_unreleased_v1_layout_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("ab/some-id")).expect("mkdir");
    std::fs::write(dir.path().join("ab/some-id/data"), b"x").expect("write");
    let err = LocalStore::open(dir.path(), true)
        .await
        .expect_err("an old layout is refused");
    assert!(
        matches!(&err, BlobError::Internal(m) if m.contains("earlier")),
        "{err:?}"
    );
    // A fresh directory is marked, and reopens.
    let fresh = tempfile::tempdir().expect("tempdir");
    drop(LocalStore::open(fresh.path(), true).await.expect("open"));
    assert_eq!(
        std::fs::read_to_string(fresh.path().join(LAYOUT_FILE)).expect("marker"),
        LAYOUT
    );
    LocalStore::open(fresh.path(), true).await.expect("reopen");
}

#[tokio::test]
async fn a_corrupt_blob_file_is_an_internal_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(dir.path(), true).await.expect("open");
    let id = BlobId::parse("corrupt").expect("id");
    std::fs::write(dir.path().join(rel_path(&id)), b"short").expect("write");
    let r = store.open_blob(&id, true).await;
    assert!(matches!(r, Err(BlobError::Internal(_))), "{r:?}");
}

#[test]
fn headers_round_trip() {
    let up = upload("h", b"hello");
    let h = header(&up);
    let meta = parse_header(&h).expect("parses");
    assert_eq!(meta.size, 5);
    assert_eq!(meta.sha256, up.sha256);
    let mut bad = h;
    bad[0] = b'X';
    assert!(parse_header(&bad).is_none());
    assert!(parse_header(&h[..HEADER_LEN - 1]).is_none());
}
