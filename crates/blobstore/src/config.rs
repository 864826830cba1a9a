//! Typed settings of the blob store: built-in defaults, then an optional
//! TOML file, then the environment (`PASSERELLE_BLOBS__SECTION__KEY`, e.g.
//! `PASSERELLE_BLOBS__STORAGE__BACKEND=s3`). The same layering as the
//! gateway's settings; every key is documented in `docs/blobstore.md`.
//! Secrets (the S3 keys) are wrapped so they never print.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// 100 MiB.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 100 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    /// The largest blob accepted, whatever a capability's `maxBytes` says.
    pub max_blob_bytes: u64,
    pub storage: StorageSettings,
    pub capabilities: CapabilitySettings,
    pub log: LogSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            storage: StorageSettings::default(),
            capabilities: CapabilitySettings::default(),
            log: LogSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// HTTP worker threads; 0 means one per CPU.
    pub workers: usize,
    /// Grace period for in-flight transfers when stopping.
    pub shutdown_timeout_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8090)),
            workers: 0,
            shutdown_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// A directory on the local filesystem (the embedded default).
    Local,
    /// An S3-compatible object store.
    S3,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    pub backend: BackendKind,
    pub local: LocalSettings,
    pub s3: S3Settings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: BackendKind::Local,
            local: LocalSettings::default(),
            s3: S3Settings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalSettings {
    /// Where blobs live (created if missing).
    pub dir: PathBuf,
    /// fsync each upload before answering 201 (the blob survives a power
    /// loss). `false` is for benchmarks and disposable data: a crash may
    /// then lose the last seconds' blobs or leave them with zero bytes.
    pub fsync: bool,
}

impl Default for LocalSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data/blobs"),
            fsync: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    /// `https://s3.eu-west-3.amazonaws.com`, `http://127.0.0.1:8333`, ...;
    /// empty for AWS's default endpoint of `region`. `http://` is allowed
    /// (a store on a private network).
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Key prefix inside the bucket (`blobs/` gives `blobs/<id>`); may be empty.
    pub prefix: String,
    #[serde(skip_serializing)]
    pub access_key_id: Option<SecretString>,
    #[serde(skip_serializing)]
    pub secret_access_key: Option<SecretString>,
    /// `https://endpoint/bucket/key` (true: MinIO, SeaweedFS, most
    /// self-hosted stores) rather than `https://bucket.endpoint/key`.
    pub path_style: bool,
    /// Uploads larger than this go up as a multipart upload in parts of
    /// this size (S3's minimum part is 5 MiB); it is also the most a PUT
    /// holds in memory.
    pub part_bytes: usize,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            prefix: String::new(),
            access_key_id: None,
            secret_access_key: None,
            path_style: true,
            part_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Where the keys that check capabilities come from. Exactly one of
/// `jwks_url`, `jwks_file` and `public_key_file` must be set when the
/// binary runs on its own; an in-process blob store gets the gateway's key
/// set instead and ignores these three.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapabilitySettings {
    /// Must equal the gateway's `auth.issuer`.
    pub issuer: String,
    /// Clock skew tolerated on `exp`.
    pub leeway_secs: u64,
    /// The gateway's `/.well-known/jwks.json`, fetched once at start.
    pub jwks_url: Option<String>,
    /// A saved copy of that document.
    pub jwks_file: Option<PathBuf>,
    /// One Ed25519 public key (SPKI PEM).
    pub public_key_file: Option<PathBuf>,
}

impl Default for CapabilitySettings {
    fn default() -> Self {
        Self {
            issuer: "passerelle".into(),
            leeway_secs: 30,
            jwks_url: None,
            jwks_file: None,
            public_key_file: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter such as `info`.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

impl Settings {
    /// Loads settings: defaults, then `file` (if given), then the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            fig = fig.merge(Toml::file_exact(path));
        }
        fig.merge(Env::prefixed("PASSERELLE_BLOBS__").split("__"))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_defaults_and_secrets_do_not_print() {
        let toml = r#"
            max_blob_bytes = 1024
            [storage]
            backend = "s3"
            [storage.s3]
            bucket = "blobs"
            secret_access_key = "hunter2"
        "#;
        let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(toml))
            .extract()
            .expect("settings");
        assert_eq!(s.storage.backend, BackendKind::S3);
        assert_eq!(s.max_blob_bytes, 1024);
        assert_eq!(s.capabilities.issuer, "passerelle");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
