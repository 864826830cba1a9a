//! The gateway is blind: no route takes bytes. Every operation of the
//! OpenAPI document (and the docs, metrics and WebSocket paths) refuses,
//! before any handler runs, a body over `server.max_body_bytes` (413), a
//! body without a length (413) and any body that is not JSON, such as
//! `application/octet-stream` (415); each refusal is the documented error
//! body and changes nothing. The full client flow that plants canary bytes
//! in the blob store and finds them nowhere in the gateway is
//! `blob_flow::canary_bytes_stay_in_the_blob_store`.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::*;

/// Every `(method, path)` of the committed OpenAPI document, path
/// parameters filled with a well-formed id, plus the paths the document
/// does not list.
fn every_route() -> Vec<(Method, String)> {
    let doc: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("openapi.json");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let filled: String = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "01955a0b-1111-7c2d-9e4f-5a6b7c8d9e0f"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("item").keys() {
            if let Ok(m) = method.to_uppercase().parse::<Method>() {
                out.push((m, filled.clone()));
            }
        }
    }
    for path in ["/docs/", "/openapi.json", "/metrics", "/v1/nowhere"] {
        out.push((Method::GET, path.to_owned()));
        out.push((Method::POST, path.to_owned()));
    }
    assert!(out.len() > 60, "the whole API: {}", out.len());
    out
}

/// Sends a chunked JSON body (no `Content-Length`) over a raw connection;
/// returns the status line.
async fn chunked(
    s: &passerelle_test_support::TestServer,
    method: &Method,
    path: &str,
    token: &str,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = s.url("");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         2\r\n{{}}\r\n0\r\n\r\n"
    );
    conn.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        conn.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn no_route_takes_a_big_body_or_bytes() {
    let s = server().await;
    let d = register(&s, "blind_alice").await;
    let me_before = json(get_me(&s, &d.access).await).await;
    let big = format!("{{\"displayName\": \"{}\"}}", "x".repeat(64 * 1024));
    for (method, path) in every_route() {
        let url = s.url(&path);
        let what = format!("{method} {path}");
        // Too big, as JSON.
        let resp = s
            .http()
            .request(method.clone(), &url)
            .bearer_auth(&d.access)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .expect("send");
        expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        // Small, but bytes.
        let resp = s
            .http()
            .request(method.clone(), &url)
            .bearer_auth(&d.access)
            .header("content-type", "application/octet-stream")
            .body(vec![0xde_u8, 0xad, 0xbe, 0xef])
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{what}");
        expect_error(
            resp,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        // No length at all (chunked).
        let status = chunked(&s, &method, &path, &d.access).await;
        assert!(status.starts_with("HTTP/1.1 413"), "{what}: {status}");
    }
    // Nothing changed.
    assert_eq!(json(get_me(&s, &d.access).await).await, me_before);
    // A small JSON body still works.
    let resp = patch_me(&s, &d, serde_json::json!({"displayName": "Alice"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
}
