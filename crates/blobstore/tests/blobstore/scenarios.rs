//! Every behaviour of the API, written once, run on each backend.

use std::time::Duration;

use passerelle_auth::access::{AccessTokenConfig, AccessTokens};
use passerelle_auth::{BlobOp, CapabilityIssuer};
use reqwest::StatusCode;

use crate::common::{Harness, ISSUER, assert_error, bytes, new_keys, sha256_hex};

pub async fn round_trip_put_head_get(h: &Harness) {
    let id = h.id("rt");
    let body = bytes(300_000, 1);
    let digest = sha256_hex(&body);
    let r = h.put(&id, &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: serde_json::Value = r.json().await.expect("json");
    assert_eq!(created["id"], id.as_str());
    assert_eq!(created["size"], 300_000);
    assert_eq!(created["sha256"], digest.as_str());

    let r = h.head(&id).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-length"], "300000");
    assert_eq!(r.headers()["etag"], format!("\"{digest}\"").as_str());
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert!(r.bytes().await.expect("body").is_empty());

    let r = h.get(&id, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["etag"], format!("\"{digest}\"").as_str());
    assert_eq!(r.headers()["content-length"], "300000");
    assert_eq!(r.bytes().await.expect("body").as_ref(), body.as_slice());
}

pub async fn empty_blob(h: &Harness) {
    let id = h.id("empty");
    assert_eq!(h.put(&id, b"").await.status(), StatusCode::CREATED);
    let r = h.get(&id, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.expect("body").is_empty());
    assert_error(
        h.get(&id, Some("bytes=0-")).await,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    )
    .await;
}

pub async fn ranges(h: &Harness) {
    let id = h.id("ranges");
    let body = bytes(10_000, 2);
    assert_eq!(h.put(&id, &body).await.status(), StatusCode::CREATED);
    for (range, start, end) in [
        ("bytes=0-99", 0usize, 100usize),
        ("bytes=5000-5999", 5000, 6000),
        ("bytes=9990-", 9990, 10_000),
        ("bytes=-10", 9990, 10_000),
        ("bytes=9000-20000", 9000, 10_000),
        ("bytes=-20000", 0, 10_000),
    ] {
        let r = h.get(&id, Some(range)).await;
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {start}-{}/10000", end - 1).as_str(),
            "{range}"
        );
        assert_eq!(
            r.headers()["content-length"],
            (end - start).to_string().as_str()
        );
        assert_eq!(
            r.bytes().await.expect("body").as_ref(),
            &body[start..end],
            "{range}"
        );
    }
    for range in ["bytes=10000-", "bytes=20000-30000", "bytes=-0"] {
        let r = h.get(&id, Some(range)).await;
        assert_eq!(r.headers()["content-range"], "bytes */10000", "{range}");
        assert_error(
            r,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
        )
        .await;
    }
    // Several ranges or nonsense: the whole blob.
    for range in ["bytes=0-1,5-6", "bytes=9-2", "lines=1-2"] {
        let r = h.get(&id, Some(range)).await;
        assert_eq!(r.status(), StatusCode::OK, "{range}");
        assert_eq!(r.bytes().await.expect("body").len(), 10_000);
    }
}

pub async fn if_none_match(h: &Harness) {
    let id = h.id("inm");
    let body = bytes(1000, 3);
    assert_eq!(h.put(&id, &body).await.status(), StatusCode::CREATED);
    let etag = format!("\"{}\"", sha256_hex(&body));
    let cap = h.cap(&id, BlobOp::Get);
    let r = h
        .http
        .get(h.url(&id))
        .bearer_auth(&cap)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = h
        .http
        .get(h.url(&id))
        .bearer_auth(&cap)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
}

pub async fn create_only(h: &Harness) {
    let id = h.id("once");
    let first = bytes(2000, 4);
    let cap = h.cap(&id, BlobOp::Put);
    let r = h
        .put_raw(&id, &cap, first.clone(), Some(&sha256_hex(&first)))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // The same capability replayed with other bytes: refused, unchanged.
    let second = bytes(2000, 5);
    let r = h
        .put_raw(&id, &cap, second.clone(), Some(&sha256_hex(&second)))
        .await;
    assert_error(r, StatusCode::CONFLICT, "blob_exists").await;
    let r = h
        .put_raw(&id, &cap, first.clone(), Some(&sha256_hex(&first)))
        .await;
    assert_error(r, StatusCode::CONFLICT, "blob_exists").await;
    assert_eq!(
        h.get(&id, None).await.bytes().await.expect("body").as_ref(),
        first.as_slice()
    );
}

pub async fn digest_mismatch_keeps_nothing(h: &Harness) {
    let id = h.id("mismatch");
    let body = bytes(50_000, 6);
    let wrong = sha256_hex(b"something else");
    let r = h
        .put_raw(&id, &h.cap(&id, BlobOp::Put), body.clone(), Some(&wrong))
        .await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "digest_mismatch").await;
    h.assert_absent(&id).await;
    // The id is still free: the right bytes go in.
    assert_eq!(h.put(&id, &body).await.status(), StatusCode::CREATED);
    // Malformed digests are refused before anything.
    let other = h.id("badhex");
    for bad in ["ABC", &sha256_hex(&body).to_uppercase(), "zz"] {
        let r = h
            .put_raw(&other, &h.cap(&other, BlobOp::Put), body.clone(), Some(bad))
            .await;
        assert_error(r, StatusCode::BAD_REQUEST, "invalid_header").await;
    }
    h.assert_absent(&other).await;
}

pub async fn capability_digest_wins(h: &Harness) {
    let id = h.id("capdigest");
    let body = bytes(4096, 7);
    let cap = h.cap_with(
        &id,
        BlobOp::Put,
        Some(10_000),
        Some(sha256_hex(&body)),
        Duration::from_secs(60),
    );
    // Other bytes with a matching header digest: the capability's digest decides.
    let other = bytes(4096, 8);
    let r = h
        .put_raw(&id, &cap, other.clone(), Some(&sha256_hex(&other)))
        .await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "digest_mismatch").await;
    h.assert_absent(&id).await;
    // The right bytes need no header.
    let r = h.put_raw(&id, &cap, body.clone(), None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

pub async fn short_and_long_bodies_keep_nothing(h: &Harness) {
    // A body that ends before its Content-Length: the server never answers
    // 201 and keeps nothing.
    let id = h.id("short");
    let body = bytes(100_000, 9);
    let cap = h.cap(&id, BlobOp::Put);
    let addr = h.base.trim_start_matches("http://").to_owned();
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let head = format!(
            "PUT /v1/blobs/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cap}\r\nx-content-sha256: {}\r\nContent-Length: {}\r\n\r\n",
            sha256_hex(&body),
            body.len()
        );
        s.write_all(head.as_bytes()).await.expect("head");
        s.write_all(&body[..50_000]).await.expect("half");
        s.shutdown().await.expect("shutdown");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
        assert!(
            !String::from_utf8_lossy(&answer).contains(" 201 "),
            "a cut body was stored"
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.assert_absent(&id).await;
    assert_eq!(h.put(&id, &body).await.status(), StatusCode::CREATED);
}

pub async fn too_big(h: &Harness) {
    // Over the capability's maxBytes.
    let id = h.id("big-cap");
    let body = bytes(2048, 10);
    let cap = h.cap_with(&id, BlobOp::Put, Some(1024), None, Duration::from_secs(60));
    let r = h
        .put_raw(&id, &cap, body.clone(), Some(&sha256_hex(&body)))
        .await;
    assert_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    h.assert_absent(&id).await;
    // Exactly maxBytes is fine.
    let exact = bytes(1024, 10);
    let r = h
        .put_raw(&id, &cap, exact.clone(), Some(&sha256_hex(&exact)))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Over the server's max_blob_bytes, whatever the capability allows:
    // refused on Content-Length alone (a raw request announcing it).
    let id = h.id("big-server");
    let cap = h.cap_with(
        &id,
        BlobOp::Put,
        Some(u64::MAX),
        None,
        Duration::from_secs(60),
    );
    let status = raw_put_status(h, &id, &cap, h.max_blob_bytes + 1).await;
    assert_eq!(status, 413);
    h.assert_absent(&id).await;
}

/// Sends only the head of a PUT announcing `len` bytes and returns the
/// status the server answers without waiting for the body.
async fn raw_put_status(h: &Harness, id: &str, cap: &str, len: u64) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = h.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "PUT /v1/blobs/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cap}\r\nx-content-sha256: {}\r\nContent-Length: {len}\r\n\r\n",
        sha256_hex(b"")
    );
    s.write_all(head.as_bytes()).await.expect("head");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("the server answers before the body")
        .expect("read");
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub async fn missing_length_and_digest(h: &Harness) {
    // Chunked, no Content-Length: 411.
    let id = h.id("nolen");
    let cap = h.cap(&id, BlobOp::Put);
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes(10, 1))]);
    let r = h
        .http
        .put(h.url(&id))
        .bearer_auth(&cap)
        .header("x-content-sha256", sha256_hex(&bytes(10, 1)))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("put");
    assert_error(r, StatusCode::LENGTH_REQUIRED, "length_required").await;
    // Neither the capability nor the header names a digest: 400.
    let r = h.put_raw(&id, &cap, bytes(10, 1), None).await;
    assert_error(r, StatusCode::BAD_REQUEST, "digest_required").await;
    h.assert_absent(&id).await;
}

pub async fn bad_capabilities(h: &Harness) {
    let id = h.id("badcap");
    let body = bytes(100, 11);
    let digest = sha256_hex(&body);
    // None at all, and not a Bearer.
    let r = h
        .http
        .put(h.url(&id))
        .header("x-content-sha256", &digest)
        .body(body.clone())
        .send()
        .await
        .expect("put");
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = h
        .http
        .get(h.url(&id))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .expect("get");
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Garbage.
    let r = h
        .put_raw(&id, "not.a.jwt", body.clone(), Some(&digest))
        .await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Expired (no leeway configured).
    let expired = h.cap_with(&id, BlobOp::Put, Some(1000), None, Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = h.put_raw(&id, &expired, body.clone(), Some(&digest)).await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Forged: signed by another key (same kid claimed or not), or tampered.
    let (stranger, _) = new_keys();
    let forged = CapabilityIssuer::new(stranger, ISSUER)
        .issue(passerelle_auth::Grant {
            user: uuid::Uuid::new_v4(),
            blob: id.clone(),
            op: BlobOp::Put,
            ttl: Duration::from_secs(60),
            max_bytes: Some(1000),
            sha256: None,
        })
        .expect("issue")
        .token;
    let r = h.put_raw(&id, &forged, body.clone(), Some(&digest)).await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let good = h.cap(&id, BlobOp::Put);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = h
        .cap(&h.id("other"), BlobOp::Put)
        .split('.')
        .nth(1)
        .expect("claims")
        .to_owned();
    let r = h
        .put_raw(&id, &parts.join("."), body.clone(), Some(&digest))
        .await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Another issuer name with the right key.
    let other_issuer = CapabilityIssuer::new(h.keys.clone(), "someone-else")
        .issue(passerelle_auth::Grant {
            user: uuid::Uuid::new_v4(),
            blob: id.clone(),
            op: BlobOp::Put,
            ttl: Duration::from_secs(60),
            max_bytes: Some(1000),
            sha256: None,
        })
        .expect("issue")
        .token;
    let r = h
        .put_raw(&id, &other_issuer, body.clone(), Some(&digest))
        .await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    h.assert_absent(&id).await;
}

pub async fn capability_for_another_blob_or_op(h: &Harness) {
    let id = h.id("mine");
    let other = h.id("theirs");
    let body = bytes(100, 12);
    assert_eq!(h.put(&other, &body).await.status(), StatusCode::CREATED);
    let digest = sha256_hex(&body);
    // A put capability for another id.
    let r = h
        .put_raw(
            &id,
            &h.cap(&other, BlobOp::Put),
            body.clone(),
            Some(&digest),
        )
        .await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // A get or delete capability used to put.
    for op in [BlobOp::Get, BlobOp::Delete] {
        let r = h
            .put_raw(&id, &h.cap(&id, op), body.clone(), Some(&digest))
            .await;
        assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    h.assert_absent(&id).await;
    // Reading or deleting `other` with capabilities for `id`, or a put one.
    for cap in [
        h.cap(&id, BlobOp::Get),
        h.cap(&other, BlobOp::Put),
        h.cap(&other, BlobOp::Delete),
    ] {
        let r = h
            .http
            .get(h.url(&other))
            .bearer_auth(&cap)
            .send()
            .await
            .expect("get");
        assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let r = h
            .http
            .head(h.url(&other))
            .bearer_auth(&cap)
            .send()
            .await
            .expect("head");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for cap in [
        h.cap(&id, BlobOp::Delete),
        h.cap(&other, BlobOp::Get),
        h.cap(&other, BlobOp::Put),
    ] {
        let r = h
            .http
            .delete(h.url(&other))
            .bearer_auth(&cap)
            .send()
            .await
            .expect("delete");
        assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    assert_eq!(
        h.get(&other, None)
            .await
            .bytes()
            .await
            .expect("body")
            .as_ref(),
        body.as_slice()
    );
}

pub async fn access_token_is_not_a_capability(h: &Harness) {
    let id = h.id("access");
    let tokens = AccessTokens::new(
        h.keys.clone(),
        AccessTokenConfig {
            issuer: ISSUER.into(),
            audience: ISSUER.into(),
            ttl: Duration::from_secs(60),
            leeway_secs: 0,
        },
    );
    let access = tokens
        .issue(
            passerelle_domain::UserId::new(),
            passerelle_domain::DeviceId::new(),
        )
        .expect("access")
        .token;
    let body = bytes(10, 13);
    let r = h
        .put_raw(&id, &access, body.clone(), Some(&sha256_hex(&body)))
        .await;
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = h
        .http
        .get(h.url(&id))
        .bearer_auth(&access)
        .send()
        .await
        .expect("get");
    assert_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    h.assert_absent(&id).await;
}

pub async fn bad_ids(h: &Harness) {
    // Sent as raw request lines, so no client library normalises them.
    let long = "a".repeat(129);
    let cap = h.cap("x", BlobOp::Get);
    for raw in [
        "..%2F..%2Fetc%2Fpasswd",
        "..%2F..",
        "a.b",
        "%2e%2e",
        "%2E%2E%2Fx",
        "a%00b",
        "a%20b",
        long.as_str(),
    ] {
        for method in ["GET", "HEAD", "PUT", "DELETE"] {
            let (status, body) = raw_request(h, method, &format!("/v1/blobs/{raw}"), &cap).await;
            assert_eq!(status, 400, "{method} {raw}: {body}");
            if method != "HEAD" {
                assert!(body.contains("\"invalid_path\""), "{method} {raw}: {body}");
            }
        }
    }
    // Traversal in the path itself never reaches a blob.
    for path in [
        "/v1/blobs/../../etc/passwd",
        "/v1/blobs/a/b",
        "/v1/blobs/",
        "/v1/blobs/%2e%2e/x",
    ] {
        let (status, _) = raw_request(h, "GET", path, &cap).await;
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
    // 128 characters is fine.
    let id = format!("{}{}", h.prefix, "z".repeat(128 - h.prefix.len()));
    assert_eq!(h.put(&id, b"ok").await.status(), StatusCode::CREATED);
}

/// One request on a fresh connection, exactly as written; returns the
/// status and the body.
async fn raw_request(h: &Harness, method: &str, path: &str, cap: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = h.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {cap}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .expect("answer")
        .expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

pub async fn delete_is_idempotent(h: &Harness) {
    let id = h.id("del");
    let body = bytes(5000, 14);
    assert_eq!(h.put(&id, &body).await.status(), StatusCode::CREATED);
    assert_eq!(h.delete(&id).await.status(), StatusCode::NO_CONTENT);
    h.assert_absent(&id).await;
    assert_eq!(h.delete(&id).await.status(), StatusCode::NO_CONTENT);
    assert_error(h.get(&id, None).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        h.delete(&h.id("never")).await.status(),
        StatusCode::NO_CONTENT
    );
}

pub async fn multi_part_blob(h: &Harness) {
    // Larger than an S3 part: a multipart upload on S3; checked the same.
    let id = h.id("multi");
    let body = bytes(12 * 1024 * 1024 + 123, 15);
    let wrong = h.id("multi-wrong");
    let r = h
        .put_raw(
            &wrong,
            &h.cap(&wrong, BlobOp::Put),
            body.clone(),
            Some(&sha256_hex(b"x")),
        )
        .await;
    assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "digest_mismatch").await;
    h.assert_absent(&wrong).await;
    assert_eq!(h.put(&id, &body).await.status(), StatusCode::CREATED);
    let r = h.get(&id, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = r.bytes().await.expect("body");
    assert_eq!(got.len(), body.len());
    assert!(got.as_ref() == body.as_slice(), "bytes differ");
    let r = h.get(&id, Some("bytes=5242870-5242889")).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.expect("body").as_ref(),
        &body[5_242_870..5_242_890]
    );
    let r = h.put(&id, &body).await;
    assert_error(r, StatusCode::CONFLICT, "blob_exists").await;
}

pub async fn health_and_unknown_routes(h: &Harness) {
    let r = h
        .http
        .get(format!("{}/healthz", h.base))
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .http
        .get(format!("{}/nope", h.base))
        .send()
        .await
        .expect("nope");
    assert_error(r, StatusCode::NOT_FOUND, "not_found").await;
    let r = h.http.post(h.url("abc")).send().await.expect("post");
    assert_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}
