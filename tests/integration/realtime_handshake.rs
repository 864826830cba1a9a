//! `GET /v1/ws`: the handshake contract, from the client's and the
//! attacker's side.

use passerelle_client::{Client, ClientError, ConnectOptions, TokenTransport};
use reqwest::{Method, StatusCode};

use crate::common::*;

/// A raw upgrade request with the given subprotocol header.
fn upgrade(
    s: &passerelle_test_support::TestServer,
    protocols: Option<&str>,
) -> reqwest::RequestBuilder {
    upgrade_at(s, "/v1/ws", protocols)
}

/// The same, at `path` (e.g. with a query string).
fn upgrade_at(
    s: &passerelle_test_support::TestServer,
    path: &str,
    protocols: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut req = s
        .http()
        .get(s.url(path))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    if let Some(p) = protocols {
        req = req.header("sec-websocket-protocol", p);
    }
    req
}

#[tokio::test]
async fn token_in_the_subprotocol_and_only_the_app_protocol_echoed() {
    let s = server().await;
    let d = register(&s, "ws_alice").await;
    let resp = upgrade(&s, Some(&format!("passerelle.v1, bearer.{}", d.access)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    let echoed: Vec<_> = resp
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(echoed, vec!["passerelle.v1".to_owned()], "never the token");
    // The full client path, both transports.
    let conn = ws(&s, &d).await;
    assert_eq!(conn.protocol(), "passerelle.v1");
    let client = Client::new(&s.url(""));
    let opts = ConnectOptions::default().transport(TokenTransport::AuthorizationHeader);
    let mut native = client
        .connect_with(&d.access, opts)
        .await
        .expect("native client");
    assert!(matches!(
        next(&mut native).await,
        passerelle_client::ws::ServerFrame::Ready { .. }
    ));
}

#[tokio::test]
async fn refused_handshakes() {
    let s = server().await;
    let d = register(&s, "ws_bob").await;
    // No passerelle.v1 offered.
    let resp = upgrade(&s, Some(&format!("bearer.{}", d.access)))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "subprotocol_required").await;
    let resp = upgrade(&s, Some("chat, superchat"))
        .bearer_auth(&d.access)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "subprotocol_required").await;
    // No token, a bad token, a token in the query string.
    expect_error(
        upgrade(&s, Some("passerelle.v1")).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    expect_error(
        upgrade(&s, Some("passerelle.v1, bearer.not-a-jwt"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let path = format!("/v1/ws?access_token={}", d.access);
    let resp = upgrade_at(&s, &path, Some("passerelle.v1"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Authenticated, but not a WebSocket handshake.
    let resp = s
        .http()
        .get(s.url("/v1/ws"))
        .header(
            "sec-websocket-protocol",
            format!("passerelle.v1, bearer.{}", d.access),
        )
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "websocket_required").await;
    // A revoked device's still-valid token.
    let other = login_ok(&s, "ws_bob").await;
    let path = format!("/v1/devices/{}", other.device_id);
    assert_eq!(
        authed(&s, Method::DELETE, &path, &d.access)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let client = Client::new(&s.url(""));
    match client.connect(&other.access).await {
        Err(ClientError::Handshake { status, body }) => {
            assert_eq!(status, 401);
            assert!(body.contains("unauthorized"), "{body}");
        }
        Ok(_) => panic!("a revoked device connected"),
        Err(e) => panic!("unexpected {e}"),
    }
}
