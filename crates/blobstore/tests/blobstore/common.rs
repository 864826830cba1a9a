//! The harness: a blob store on 127.0.0.1:0 in this process, the gateway's
//! side of capabilities (a key set and a `CapabilityIssuer`), and an HTTP
//! client.

use std::time::Duration;

use passerelle_auth::{BlobOp, CapabilityIssuer, CapabilityVerifier, Grant, KeySet};
use passerelle_blobstore::config::BackendKind;
use passerelle_blobstore::{Settings, StopHandle};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "passerelle";

pub struct Harness {
    pub base: String,
    pub http: reqwest::Client,
    pub keys: KeySet,
    pub issuer: CapabilityIssuer,
    /// Per-harness id prefix, so scenarios sharing a server never collide.
    pub prefix: String,
    pub max_blob_bytes: u64,
    stop: StopHandle,
    _dir: tempfile::TempDir,
}

pub fn new_keys() -> (KeySet, String) {
    let pem = passerelle_auth::keys::generate_ed25519_pem().expect("pem");
    (KeySet::ed25519_from_pem(&pem, &[]).expect("keys"), pem)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic, incompressible-looking test bytes.
pub fn bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

impl Harness {
    pub async fn local() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Self::settings();
        settings.storage.local.dir = dir.path().join("blobs");
        Self::start(settings, dir).await
    }

    pub async fn s3(weed: &passerelle_test_support::weed::Weed) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Self::settings();
        settings.storage.backend = BackendKind::S3;
        settings.storage.s3 = s3_settings(weed);
        // Small parts, so multipart uploads are exercised with small blobs.
        settings.storage.s3.part_bytes = 5 * 1024 * 1024;
        Self::start(settings, dir).await
    }

    fn settings() -> Settings {
        let mut settings = Settings::default();
        settings.server.bind = "127.0.0.1:0".parse().expect("addr");
        settings.server.workers = 2;
        settings.server.shutdown_timeout_secs = 2;
        settings.max_blob_bytes = 16 * 1024 * 1024;
        settings.capabilities.leeway_secs = 0;
        settings
    }

    async fn start(settings: Settings, dir: tempfile::TempDir) -> Self {
        let (keys, _) = new_keys();
        let verifier = CapabilityVerifier::from_key_set(keys.clone(), ISSUER, 0);
        let max_blob_bytes = settings.max_blob_bytes;
        let server = passerelle_blobstore::build(settings, verifier)
            .await
            .expect("build");
        let base = format!("http://{}", server.local_addr());
        let stop = server.handle();
        tokio::spawn(server.run());
        Self {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            issuer: CapabilityIssuer::new(keys.clone(), ISSUER),
            keys,
            prefix: format!("t{}", &uuid_like()[..8]),
            max_blob_bytes,
            stop,
            _dir: dir,
        }
    }

    pub async fn stop(self) {
        self.stop.stop(true).await;
    }

    /// A fresh id for this scenario.
    pub fn id(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    pub fn url(&self, id: &str) -> String {
        format!("{}/v1/blobs/{id}", self.base)
    }

    pub fn cap(&self, id: &str, op: BlobOp) -> String {
        self.cap_with(id, op, Some(1 << 30), None, Duration::from_secs(60))
    }

    pub fn cap_with(
        &self,
        id: &str,
        op: BlobOp,
        max_bytes: Option<u64>,
        sha256: Option<String>,
        ttl: Duration,
    ) -> String {
        self.issuer
            .issue(Grant {
                user: uuid::Uuid::new_v4(),
                blob: id.into(),
                op,
                ttl,
                max_bytes,
                sha256,
            })
            .expect("issue")
            .token
    }

    /// PUT with a `put` capability and the body's digest in the header.
    pub async fn put(&self, id: &str, body: &[u8]) -> reqwest::Response {
        let cap = self.cap(id, BlobOp::Put);
        self.put_raw(id, &cap, body.to_vec(), Some(&sha256_hex(body)))
            .await
    }

    pub async fn put_raw(
        &self,
        id: &str,
        cap: &str,
        body: Vec<u8>,
        digest: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.http.put(self.url(id)).bearer_auth(cap).body(body);
        if let Some(d) = digest {
            req = req.header("x-content-sha256", d);
        }
        req.send().await.expect("put")
    }

    pub async fn get(&self, id: &str, range: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .get(self.url(id))
            .bearer_auth(self.cap(id, BlobOp::Get));
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send().await.expect("get")
    }

    pub async fn head(&self, id: &str) -> reqwest::Response {
        self.http
            .head(self.url(id))
            .bearer_auth(self.cap(id, BlobOp::Get))
            .send()
            .await
            .expect("head")
    }

    pub async fn delete(&self, id: &str) -> reqwest::Response {
        self.http
            .delete(self.url(id))
            .bearer_auth(self.cap(id, BlobOp::Delete))
            .send()
            .await
            .expect("delete")
    }

    /// Asserts the blob is absent.
    pub async fn assert_absent(&self, id: &str) {
        let r = self.head(id).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{id} should not exist");
    }
}

/// Asserts the status and the error body's code.
pub async fn assert_error(resp: reqwest::Response, status: StatusCode, code: &str) {
    let got = resp.status();
    let body: serde_json::Value = resp.json().await.expect("json error body");
    assert_eq!(got, status, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(body["error"]["message"].is_string(), "body: {body}");
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Settings for the S3 backend on `weed` (any credentials work there).
pub fn s3_settings(
    weed: &passerelle_test_support::weed::Weed,
) -> passerelle_blobstore::config::S3Settings {
    passerelle_blobstore::config::S3Settings {
        endpoint: weed.endpoint(),
        region: "us-east-1".into(),
        bucket: weed.bucket.clone(),
        prefix: "blobs".into(),
        access_key_id: Some("test".to_owned().into()),
        secret_access_key: Some("test-secret".to_owned().into()),
        path_style: true,
        ..passerelle_blobstore::config::S3Settings::default()
    }
}
