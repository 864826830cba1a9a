//! Health, readiness, metrics, JWKS, the OpenAPI document and its UI.

use passerelle_test_support::Backend;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn health_and_readiness() {
    let s = server().await;
    let resp = s.http().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["status"], "ok");
    let resp = s.http().get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    let expected_redis = match Backend::from_env() {
        Backend::Sqlite => "not_configured",
        Backend::Postgres => "ok",
    };
    assert_eq!(body["redis"], expected_redis);
}

#[tokio::test]
async fn not_ready_when_redis_is_unreachable() {
    // Nothing listens on port 1: the node starts, and says it is not ready.
    let s = builder()
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .spawn()
        .await;
    let resp = s.http().get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(resp).await;
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["redis"], "unavailable");
    assert_eq!(body["database"], "ok");
    assert_eq!(
        s.http()
            .get(s.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Throttles degrade to per-node counters instead of failing logins.
    register(&s, "uma").await;
    assert_eq!(login(&s, "uma", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let s = server().await;
    register(&s, "victor").await;
    login(&s, "victor", "wrong password").await;
    let text = s
        .http()
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needle: &str| text.lines().any(|l| l.contains(needle));
    assert!(
        has(r#"http_requests_total{method="POST",route="/v1/auth/register",status="201"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"http_requests_total{method="POST",route="/v1/auth/login",status="401"} 1"#),
        "{text}"
    );
    assert!(
        has(
            r#"http_request_duration_seconds_bucket{method="POST",route="/v1/auth/register",status="201",le="+Inf"} 1"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let s = server().await;
    let resp = s
        .http()
        .get(s.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("abc-123")
    );
    let resp = s
        .http()
        .get(s.url("/healthz"))
        .header("x-request-id", "bad id\twith junk")
        .send()
        .await
        .unwrap();
    let generated = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    let logged = s
        .logs()
        .iter()
        .any(|l| l.contains("abc-123") && l.contains("\"status\":200"));
    assert!(logged, "the access log carries the request id");
}

#[tokio::test]
async fn jwks_publishes_the_key_that_signs_tokens() {
    let s = server().await;
    let d = register(&s, "wendy").await;
    let jwks = json(
        s.http()
            .get(s.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key.get("d").is_none(), "never the private part");
    let header = jsonwebtoken::decode_header(&d.access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    // Verify the access token with the published key alone, as the blob store
    // and integrators will.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["passerelle"]);
    validation.set_issuer(&["passerelle"]);
    let data = jsonwebtoken::decode::<Value>(
        &d.access,
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims["sub"], d.user_id.as_str());
    assert_eq!(data.claims["did"], d.device_id.as_str());
    for claim in ["iat", "exp", "jti"] {
        assert!(data.claims.get(claim).is_some(), "{claim}");
    }
    assert_eq!(
        data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap(),
        900,
        "15 minutes by default"
    );
}

#[tokio::test]
async fn served_openapi_matches_the_committed_document() {
    let s = server().await;
    let served: Value = json(s.http().get(s.url("/openapi.json")).send().await.unwrap()).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("openapi/openapi.json exists"))
            .unwrap();
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `make openapi`"
    );
    let printed = std::process::Command::new(BIN)
        .arg("openapi")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(printed.stdout).unwrap(),
        std::fs::read_to_string(path).unwrap(),
        "byte for byte"
    );
    for route in [
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/devices",
        "/v1/devices/{deviceId}",
        "/v1/me",
        "/v1/me/password",
        "/.well-known/jwks.json",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(served["paths"].get(route).is_some(), "{route} documented");
    }
    assert_eq!(
        served["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn docs_ui_is_served_without_the_internet() {
    let s = server().await;
    let page = s.http().get(s.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no CDN reference in the page");
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let resp = s.http().get(s.url(asset)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{asset}");
        let body = resp.text().await.unwrap();
        assert!(body.len() > 100, "{asset}");
        if asset.ends_with("initializer.js") {
            assert!(body.contains("/openapi.json"), "{body}");
        }
    }
}

#[tokio::test]
async fn migrate_command_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::from_env();
    let db = tokio::task::spawn_blocking(move || {
        passerelle_test_support::TestDatabase::create(backend, std::path::Path::new(BIN))
    })
    .await
    .unwrap();
    let run = || {
        let mut cmd = std::process::Command::new(BIN);
        cmd.arg("migrate")
            .env_remove("DATABASE_URL")
            .env("PASSERELLE__DATA_DIR", dir.path())
            .env("PASSERELLE__LOG__FORMAT", "json");
        if let Some(url) = db.url() {
            cmd.env("DATABASE_URL", url);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{:?} stderr: {} stdout: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.contains("applied migration"))
            .count()
    };
    let first = run();
    match backend {
        // A fresh file: every migration is applied.
        Backend::Sqlite => assert!(first >= 1),
        // Cloned from the migrated template: nothing left to apply.
        Backend::Postgres => assert_eq!(first, 0),
    }
    assert_eq!(run(), 0, "a second run applies nothing");
    if backend == Backend::Sqlite {
        assert!(dir.path().join("passerelle.db").exists());
    }
}
