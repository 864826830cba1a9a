//! A message end to end, as two clients do it: Alice encrypts a body that
//! holds a canary, asks the gateway for an upload capability, puts the
//! ciphertext in the blob store, sends the message's metadata with the
//! blob's id; each of Bob's two devices gets the metadata, asks for a
//! download capability, fetches the ciphertext (whole, then the rest of an
//! interrupted download with `Range`), decrypts it and acknowledges. Then
//! the canary, in clear and encrypted (raw, hex, base64), is in the blob
//! store and nowhere in the gateway: not in its database (every table, the
//! raw SQLite file or a `pg_dump`), not in a log line, not in a frame any
//! session received. On the embedded blob store (local files) and, on the
//! full pass, on an S3-compatible one (SeaweedFS).

use base64::Engine as _;
use passerelle_client::Connection;
use passerelle_client::ws::ServerFrame;
use passerelle_test_support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::blobs::{download_grant, send_with_blob};
use crate::common::*;

/// A toy stream cipher (SHA-256 in counter mode) standing in for the
/// clients' real encryption: what matters here is that the gateway never
/// sees either side of it.
fn crypt(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, chunk) in data.chunks(32).enumerate() {
        let block = Sha256::new()
            .chain_update(key)
            .chain_update((i as u64).to_be_bytes())
            .finalize();
        out.extend(chunk.iter().zip(block.iter()).map(|(a, b)| a ^ b));
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every frame text a session receives within `ms`.
async fn drain(conn: &mut Connection, ms: u64) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(text)) = conn
        .next_raw_timeout(std::time::Duration::from_millis(ms))
        .await
    {
        out.push(text);
    }
    out
}

/// The gateway's whole database as bytes: the SQLite files, or a data-only
/// `pg_dump`.
fn database_bytes(s: &TestServer) -> Vec<u8> {
    match s.database_url() {
        Some(url) => {
            let out = std::process::Command::new("pg_dump")
                .args(["--data-only", "--no-owner", url])
                .output()
                .expect("pg_dump (postgresql-client) must be installed");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout.len() > 1000, "a real dump");
            out.stdout
        }
        None => {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(s.data_dir()).expect("data dir") {
                let path = entry.expect("entry").path();
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if name.starts_with("passerelle.db") {
                    all.extend(std::fs::read(&path).expect("read db file"));
                }
            }
            assert!(all.len() > 10_000, "the database files");
            all
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs the whole flow on `s` and checks where the canary went.
async fn exchange_and_look_for_the_canary(s: &TestServer) {
    let alice = register(s, "flow_alice").await;
    let bob = register(s, "flow_bob").await;
    let bob2 = login_ok(s, "flow_bob").await;
    let (mut a1, _) = ws_resumed(s, &alice, None).await;
    let (mut b1, _) = ws_resumed(s, &bob, None).await;
    let (mut b2, _) = ws_resumed(s, &bob2, None).await;

    // Alice encrypts a body with a canary in it (the key travels in the
    // clients' own end-to-end session, never through the gateway).
    let canary = format!("CANARY-{}", uuid::Uuid::new_v4().simple());
    let plain = format!("{canary} meet at noon {}", "x".repeat(70_000)).into_bytes();
    let key = b"shared end-to-end key";
    let cipher = crypt(key, &plain);
    let digest = hex(&Sha256::digest(&cipher));

    // Upload capability, then the bytes to the blob store.
    let resp = call(
        s,
        &alice,
        Method::POST,
        "/v1/blobs",
        Some(json!({"purpose": "message", "size": cipher.len(), "sha256": digest})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let grant = json(resp).await;
    let blob = grant["blobId"].as_str().expect("blobId").to_owned();
    let url = grant["url"].as_str().expect("url").to_owned();
    assert!(
        !url.starts_with(&s.url("")),
        "the blob store is not the gateway"
    );
    let resp = s
        .http()
        .put(&url)
        .bearer_auth(grant["token"].as_str().expect("token"))
        .header("content-type", "application/octet-stream")
        .body(cipher.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "{}",
        resp.text().await.unwrap_or_default()
    );

    // The metadata: a message that refers to the blob.
    let m = message_to(&bob.user_id);
    assert!(matches!(
        send_with_blob(&mut a1, m.clone(), &blob).await,
        ServerFrame::Sent { .. }
    ));

    // Each of Bob's devices: the metadata, a download capability, the
    // bytes, the plaintext; then the acknowledgement.
    let mut frames: Vec<String> = Vec::new();
    for conn in [&mut b1, &mut b2] {
        let text = conn.next_raw().await.expect("message frame");
        let frame: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["payload"]["blobId"], blob.as_str());
        frames.push(text);
        let grant = json(download_grant(s, Some(&bob), &blob).await).await;
        let token = grant["token"].as_str().expect("token");
        let resp = s
            .http()
            .get(grant["url"].as_str().expect("url"))
            .bearer_auth(token)
            .send()
            .await
            .expect("download");
        assert_eq!(resp.status(), StatusCode::OK);
        let got = resp.bytes().await.expect("bytes").to_vec();
        assert_eq!(crypt(key, &got), plain, "decrypted on the recipient");
        // A download cut short resumes with a range.
        let resp = s
            .http()
            .get(grant["url"].as_str().expect("url"))
            .bearer_auth(token)
            .header("range", "bytes=1000-")
            .send()
            .await
            .expect("range");
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(resp.bytes().await.expect("bytes").as_ref(), &cipher[1000..]);
        let seq = frame["seq"].as_u64().expect("seq");
        conn.ack(seq).await.expect("ack");
    }
    // Alice's side hears the delivery receipts.
    frames.extend(drain(&mut a1, 500).await);
    frames.extend(drain(&mut b1, 200).await);
    frames.extend(drain(&mut b2, 200).await);
    assert!(
        frames.iter().any(|f| f.contains("\"receipt\"")),
        "{frames:?}"
    );

    // Where the canary is not.
    let needles: Vec<(String, Vec<u8>)> = vec![
        ("plaintext canary".into(), canary.clone().into_bytes()),
        ("raw ciphertext".into(), cipher[..48].to_vec()),
        ("hex ciphertext".into(), hex(&cipher[..32]).into_bytes()),
        (
            "base64 ciphertext".into(),
            base64::engine::general_purpose::STANDARD
                .encode(&cipher[..48])
                .into_bytes(),
        ),
        (
            "base64url ciphertext".into(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(&cipher[..48])
                .into_bytes(),
        ),
    ];
    let db = database_bytes(s);
    let logs = s.logs().join("\n").into_bytes();
    let seen = frames.join("\n").into_bytes();
    assert!(contains(&seen, blob.as_bytes()), "frames carry the blob id");
    for (what, needle) in &needles {
        assert!(!contains(&db, needle), "{what} in the gateway's database");
        assert!(!contains(&logs, needle), "{what} in the gateway's logs");
        assert!(!contains(&seen, needle), "{what} in a frame");
    }
}

#[tokio::test]
async fn canary_bytes_stay_in_the_blob_store() {
    let s = server().await;
    exchange_and_look_for_the_canary(&s).await;
    // They are in the blob store's files (beside, not in, the database).
    let mut stored = Vec::new();
    let mut stack = vec![s.data_dir().join("blobs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("blob dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                stored.push(std::fs::read(&path).expect("read"));
            }
        }
    }
    assert!(
        stored.iter().any(|b| b.len() > 70_000),
        "the ciphertext is in the blob store"
    );
}

#[tokio::test]
#[ignore = "needs SeaweedFS (weed): runs on the full pass (-- --include-ignored)"]
async fn canary_bytes_stay_in_the_blob_store_on_s3() {
    let weed = passerelle_test_support::weed::Weed::start().await;
    let s = builder()
        .env("PASSERELLE__BLOBS__STORAGE__BACKEND", "s3")
        .env("PASSERELLE__BLOBS__STORAGE__S3__ENDPOINT", weed.endpoint())
        .env(
            "PASSERELLE__BLOBS__STORAGE__S3__BUCKET",
            weed.bucket.clone(),
        )
        .env("PASSERELLE__BLOBS__STORAGE__S3__REGION", "us-east-1")
        .env("PASSERELLE__BLOBS__STORAGE__S3__ACCESS_KEY_ID", "test")
        .env(
            "PASSERELLE__BLOBS__STORAGE__S3__SECRET_ACCESS_KEY",
            "test-secret",
        )
        .spawn()
        .await;
    exchange_and_look_for_the_canary(&s).await;
    // Nothing went to local files.
    assert!(
        !s.data_dir().join("blobs").exists(),
        "no local blob directory"
    );
    drop(weed);
}

/// A node whose blob sweep runs every second with one-second graces.
async fn sweeping_server() -> TestServer {
    builder()
        .env("PASSERELLE__BLOBS__SWEEP_INTERVAL_SECS", "1")
        .env("PASSERELLE__BLOBS__ORPHAN_GRACE_SECS", "1")
        .env("PASSERELLE__BLOBS__DELIVERED_GRACE_SECS", "1")
        .spawn()
        .await
}

/// Uploads `size` bytes as a new `purpose` blob of `d`; returns its id and
/// its upload grant's URL.
async fn uploaded(s: &TestServer, d: &Device, purpose: &str, size: usize) -> (String, String) {
    let grant = crate::blobs::upload_grant(s, d, purpose, size as u64).await;
    let bytes = vec![7_u8; size];
    let digest = hex(&Sha256::digest(&bytes));
    let url = grant["url"].as_str().expect("url").to_owned();
    let resp = s
        .http()
        .put(&url)
        .bearer_auth(grant["token"].as_str().expect("token"))
        .header("x-content-sha256", digest)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status(), StatusCode::CREATED);
    (grant["blobId"].as_str().expect("id").to_owned(), url)
}

/// Whether the blob store still has the blob, asked with a download
/// capability obtained while it was readable.
async fn stored(s: &TestServer, url: &str, token: &str) -> bool {
    let resp = s
        .http()
        .head(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("head");
    match resp.status() {
        StatusCode::OK => true,
        StatusCode::NOT_FOUND => false,
        other => panic!("unexpected {other}"),
    }
}

/// Waits (up to 10 s) until the blob store no longer has it.
async fn until_deleted(s: &TestServer, url: &str, token: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while stored(s, url, token).await {
        assert!(tokio::time::Instant::now() < deadline, "{url} still stored");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn download_token(s: &TestServer, d: &Device, blob: &str) -> String {
    let resp = download_grant(s, Some(d), blob).await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

#[tokio::test]
async fn the_sweep_deletes_blobs_of_retracted_orphaned_and_delivered_messages_only() {
    let s = sweeping_server().await;
    let alice = register(&s, "sweep_alice").await;
    let bob = register(&s, "sweep_bob").await;
    let (mut a1, _) = ws_resumed(&s, &alice, None).await;
    let (mut b1, _) = ws_resumed(&s, &bob, None).await;

    // Never sent: gone after the orphan grace.
    let (orphan, orphan_url) = uploaded(&s, &alice, "attachment", 100).await;
    let orphan_token = download_token(&s, &alice, &orphan).await;
    // Retracted: gone at the next sweep.
    let (retracted, retracted_url) = uploaded(&s, &alice, "message", 100).await;
    let m = message_to(&bob.user_id);
    assert!(matches!(
        send_with_blob(&mut a1, m.clone(), &retracted).await,
        ServerFrame::Sent { .. }
    ));
    let retracted_token = download_token(&s, &bob, &retracted).await;
    // Delivered to every device (Bob's and Alice's own copy): gone after
    // the delivered grace. Not acknowledged yet: kept.
    let (delivered, delivered_url) = uploaded(&s, &alice, "message", 100).await;
    let kept_token = download_token(&s, &alice, &delivered).await;
    let m2 = message_to(&bob.user_id);
    assert!(matches!(
        send_with_blob(&mut a1, m2.clone(), &delivered).await,
        ServerFrame::Sent { .. }
    ));
    let delivered_token = download_token(&s, &bob, &delivered).await;

    let conversation = {
        let list = json(call(&s, &alice, Method::GET, "/v1/conversations", None).await).await;
        list["conversations"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!("/v1/conversations/{conversation}/messages/{}", m.message_id),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    until_deleted(&s, &retracted_url, &retracted_token).await;
    until_deleted(&s, &orphan_url, &orphan_token).await;
    // Bob has not acknowledged the second message: it stays (well past
    // the one-second grace).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        stored(&s, &delivered_url, &delivered_token).await,
        "not delivered yet"
    );

    // Every device acknowledges: Bob's everything he got; Alice's device
    // its own copies (a new session of it replays them).
    let seq = drain(&mut b1, 300)
        .await
        .iter()
        .filter_map(|f| serde_json::from_str::<serde_json::Value>(f).ok())
        .filter_map(|v| v["seq"].as_u64())
        .max()
        .expect("bob got events");
    b1.ack(seq).await.expect("ack");
    let (mut a2, replayed) = ws_resumed(&s, &alice, None).await;
    let seq = replayed
        .iter()
        .filter_map(ServerFrame::seq)
        .max()
        .expect("alice's copies");
    a2.ack(seq).await.expect("ack");
    until_deleted(&s, &delivered_url, &kept_token).await;
    assert!(metric(&s, "passerelle_blobs_deleted_total{reason=\"doomed\"}").await >= 1.0);
    assert!(metric(&s, "passerelle_blobs_deleted_total{reason=\"orphan\"}").await >= 1.0);
    assert!(metric(&s, "passerelle_blobs_deleted_total{reason=\"delivered\"}").await >= 1.0);
    // Gone means not granted either.
    assert_eq!(
        download_grant(&s, Some(&bob), &delivered).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// A per-device message's entry blobs live and die with it: deleted at
/// once when it is retracted, and after the delivered grace once the
/// device each was addressed to acknowledged it (not before).
#[tokio::test]
async fn entry_blobs_go_with_their_message_and_after_their_device_acks() {
    let s = sweeping_server().await;
    let alice = register(&s, "entry_alice").await;
    let bob = register(&s, "entry_bob").await;
    let bob_reg = json(call(&s, &bob, Method::GET, "/v1/devices", None).await).await["devices"][0]
        ["registrationId"]
        .as_u64()
        .expect("number") as u32;
    let (mut a1, _) = ws_resumed(&s, &alice, None).await;
    let (mut b1, _) = ws_resumed(&s, &bob, None).await;
    let mut sent = Vec::new();
    for _ in 0..2 {
        let (blob, url) = uploaded(&s, &alice, "message", 100).await;
        let m = passerelle_client::ws::SendMessage {
            device_entries: Some(vec![passerelle_client::ws::DeviceEntry {
                device_id: bob.device_id.parse().expect("uuid"),
                registration_id: bob_reg,
                blob_id: blob.clone(),
            }]),
            ..message_to(&bob.user_id)
        };
        a1.send_message(m.clone()).await.expect("send");
        loop {
            match next(&mut a1).await {
                ServerFrame::Sent { .. } => break,
                ServerFrame::Error { payload, .. } => panic!("refused: {payload:?}"),
                _ => {}
            }
        }
        let token = download_token(&s, &bob, &blob).await;
        sent.push((m, blob, url, token));
    }
    let conversation =
        json(call(&s, &alice, Method::GET, "/v1/conversations", None).await).await["conversations"]
            [0]["id"]
            .as_str()
            .expect("id")
            .to_owned();
    // Retracted: its entry's blob goes at the next sweep.
    let (retracted, _, retracted_url, retracted_token) = &sent[0];
    let resp = call(
        &s,
        &alice,
        Method::DELETE,
        &format!(
            "/v1/conversations/{conversation}/messages/{}",
            retracted.message_id
        ),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    until_deleted(&s, retracted_url, retracted_token).await;
    // Not acknowledged by Bob's device: kept past the one-second grace.
    let (_, kept, kept_url, kept_token) = &sent[1];
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        stored(&s, kept_url, kept_token).await,
        "not acknowledged yet"
    );
    let seq = drain(&mut b1, 300)
        .await
        .iter()
        .filter_map(|f| serde_json::from_str::<serde_json::Value>(f).ok())
        .filter_map(|v| v["seq"].as_u64())
        .max()
        .expect("bob got events");
    b1.ack(seq).await.expect("ack");
    until_deleted(&s, kept_url, kept_token).await;
    assert_eq!(
        download_grant(&s, Some(&bob), kept).await.status(),
        StatusCode::NOT_FOUND
    );
}
