//! Typed settings: built-in defaults, then an optional TOML file, then the
//! environment (`PASSERELLE__SECTION__KEY`, plus the conventional
//! `DATABASE_URL` and `REDIS_URL`). Every key is documented in
//! `docs/configuration.md`; secrets are wrapped so they never print.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use passerelle_auth::external::ProviderConfig;
use passerelle_auth::password::Argon2Params;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the embedded database and generated keys live.
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub ws: WsSettings,
    pub routing: RoutingSettings,
    pub conversations: ConversationSettings,
    pub rooms: RoomSettings,
    pub typing: TypingSettings,
    pub presence: PresenceSettings,
    pub blobs: BlobSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TypingSettings {
    /// How long a `started` shows (the relayed `expiresInMs`): clients
    /// hide the indicator when no refresh came within it.
    pub ttl_ms: u64,
    /// Per session and conversation, at most one `started` is relayed per
    /// this interval; extra ones are dropped silently.
    pub min_interval_ms: u64,
    /// Conversations with more members than this relay no typing.
    pub max_members: u32,
}

impl Default for TypingSettings {
    fn default() -> Self {
        Self {
            ttl_ms: 6000,
            min_interval_ms: 1000,
            max_members: 200,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceSettings {
    /// A user whose last session closed is announced offline only after
    /// this long without a new one: a connection that drops and comes back
    /// within it announces nothing (flapping mobile links do not storm).
    pub offline_grace_ms: u64,
    /// How often each node settles users whose grace is over.
    pub sweep_interval_ms: u64,
    /// Per session, at most one `presence` frame (away / online) per this
    /// interval; a faster one is refused with `rate_limited`.
    pub min_interval_ms: u64,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self {
            offline_grace_ms: 5000,
            sweep_interval_ms: 1000,
            min_interval_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlobSettings {
    /// Run the blob store in this process, on `bind`, with its files in
    /// `<data_dir>/blobs` (the embedded default). Off when the blob store
    /// runs on its own (`passerelle-blobstore`), reached at `url`.
    pub embedded: bool,
    /// Where the embedded blob store listens.
    pub bind: SocketAddr,
    /// The blob store's base URL as clients reach it (grants point there).
    /// Empty: `http://<bind>`.
    pub url: String,
    /// The blob store's base URL as this gateway reaches it, to delete
    /// blobs. Empty: `url`.
    pub internal_url: String,
    /// The largest blob an upload may be granted for, in bytes.
    pub max_bytes: u64,
    /// How long an upload grant is valid.
    pub upload_ttl_secs: u64,
    /// How long a download grant is valid.
    pub download_ttl_secs: u64,
    /// Upload grants per user per minute (0: no limit).
    pub uploads_per_minute: u32,
    /// A blob granted but not sent in a message (or an avatar not in use)
    /// this long is deleted.
    pub orphan_grace_secs: u64,
    /// A blob whose message every device acknowledged is deleted this long
    /// after it was sent.
    pub delivered_grace_secs: u64,
    /// Any blob is deleted this many days after its grant.
    pub retention_days: u64,
    /// How often each node sweeps blobs to delete.
    pub sweep_interval_secs: u64,
    /// The embedded blob store's storage: a local directory (by default
    /// `<data_dir>/blobs`) or an S3-compatible bucket; the same keys as
    /// `passerelle-blobstore`'s `[storage]` (docs/blobstore.md).
    pub storage: passerelle_blobstore::config::StorageSettings,
}

impl Default for BlobSettings {
    fn default() -> Self {
        Self {
            embedded: true,
            bind: SocketAddr::from(([127, 0, 0, 1], 8081)),
            url: String::new(),
            internal_url: String::new(),
            max_bytes: 100 * 1024 * 1024,
            upload_ttl_secs: 600,
            download_ttl_secs: 300,
            uploads_per_minute: 120,
            orphan_grace_secs: 86_400,
            delivered_grace_secs: 86_400,
            retention_days: 30,
            sweep_interval_secs: 60,
            storage: passerelle_blobstore::config::StorageSettings::default(),
        }
    }
}

impl BlobSettings {
    /// The base URL clients use (no trailing `/`).
    pub fn public_url(&self, bound: Option<SocketAddr>) -> String {
        let url = self.url.trim().trim_end_matches('/');
        if url.is_empty() {
            format!("http://{}", bound.unwrap_or(self.bind))
        } else {
            url.to_owned()
        }
    }

    /// The base URL this gateway uses (no trailing `/`).
    pub fn internal(&self, bound: Option<SocketAddr>) -> String {
        let url = self.internal_url.trim().trim_end_matches('/');
        if url.is_empty() {
            self.public_url(bound)
        } else {
            url.to_owned()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomSettings {
    /// A link room nobody has entered this long after its creation is
    /// deleted.
    pub enter_grace_secs: u64,
    /// How often each node records that it is alive and sweeps: a node not
    /// seen for three intervals is dead, and its sessions leave their rooms.
    pub heartbeat_secs: u64,
    /// Most users in one link room at once (at least 2).
    pub member_cap: u32,
    /// Most rooms one WebSocket session may be in at once.
    pub max_per_session: u32,
}

impl Default for RoomSettings {
    fn default() -> Self {
        Self {
            enter_grace_secs: 60,
            heartbeat_secs: 5,
            member_cap: 1000,
            max_per_session: 32,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversationSettings {
    /// A new group's member cap when its creator names none.
    pub default_member_cap: u32,
    /// The largest member cap a group may ask for.
    pub max_member_cap: u32,
    /// How long after sending a sender may retract a message.
    pub retract_window_secs: u64,
    /// How often each node deletes expired disappearing messages (they are
    /// hidden from history and replay from their expiry on regardless).
    pub expiry_sweep_secs: u64,
    /// How long a game invitation stays pending before it expires (1 s to
    /// a year).
    pub game_invite_ttl_secs: u64,
}

impl Default for ConversationSettings {
    fn default() -> Self {
        Self {
            default_member_cap: 1000,
            max_member_cap: 10_000,
            retract_window_secs: 86_400,
            expiry_sweep_secs: 5,
            game_invite_ttl_secs: 86_400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsSettings {
    /// The server pings this often; a session silent for three intervals is
    /// closed (4000). Also the refresh period of the session registry.
    pub heartbeat_secs: u64,
    /// Largest client frame (bytes); larger closes with 1009.
    pub max_frame_bytes: usize,
    /// Live events queued per session before it counts as a slow consumer
    /// (closed with 4008; it resumes from its cursor).
    pub outbound_queue: usize,
    /// Client frames per second per session (token bucket)…
    pub frames_per_sec: u32,
    /// …with bursts up to this many.
    pub frame_burst: u32,
    /// Live sessions per device, across all nodes (0 = unlimited).
    pub max_sessions_per_device: u32,
    /// Live sessions per user, across all nodes (0 = unlimited).
    pub max_sessions_per_user: u32,
    /// Events read per database query when replaying a stream.
    pub replay_page: u32,
    /// Kernel send buffer of each client connection (`SO_SNDBUF`, bytes);
    /// 0 keeps the system's autotuning (up to `net.ipv4.tcp_wmem` max,
    /// often 4 MiB per connection). A bound caps the kernel memory a slow
    /// client can pin and makes slow consumers visible sooner.
    pub socket_send_buffer: u32,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            heartbeat_secs: 15,
            max_frame_bytes: 16 * 1024,
            outbound_queue: 1024,
            frames_per_sec: 100,
            frame_burst: 200,
            max_sessions_per_device: 4,
            max_sessions_per_user: 32,
            replay_page: 500,
            socket_send_buffer: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    /// Writer tasks applying batches concurrently; 0 = 1 (the default on
    /// both backends).
    pub writers: usize,
    /// Most operations (sends and acks) in one transaction.
    pub max_batch: usize,
    /// Operations waiting for a writer before senders wait.
    pub queue: usize,
    /// Undelivered events are deleted after this many days.
    pub retention_days: u64,
    /// Acknowledged events are deleted after this long (other sessions of
    /// the same device may still be catching up).
    pub acked_grace_secs: u64,
    pub sweep_interval_secs: u64,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        Self {
            writers: 0,
            max_batch: 512,
            queue: 8192,
            retention_days: 30,
            acked_grace_secs: 300,
            sweep_interval_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// HTTP worker threads; 0 means one per CPU.
    pub workers: usize,
    /// Grace period for in-flight requests on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// Largest request body any REST route accepts. The gateway is blind: it
    /// only ever receives small metadata bodies.
    pub max_body_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it), for per-address throttles.
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` for Postgres; unset for the embedded SQLite file
    /// `<data_dir>/passerelle.db`; any other value is a SQLite path.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// Connection pool size; default 16 on Postgres, 4 on SQLite.
    pub pool_size: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…`; unset for in-process coordination (single node).
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// Prefix of every Redis key and channel, so that several deployments
    /// can share one Redis.
    pub namespace: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            namespace: "passerelle".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenAlgorithm {
    EdDSA,
    HS256,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `iss` of the access tokens this gateway issues.
    pub issuer: String,
    /// `aud` of the access tokens this gateway issues and accepts.
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Clock skew tolerated on `exp`.
    pub leeway_secs: u64,
    pub algorithm: TokenAlgorithm,
    /// Ed25519 PKCS#8 PEM of the active signing key (inline). Takes
    /// precedence over `signing_key_file`.
    #[serde(skip_serializing)]
    pub signing_key: Option<SecretString>,
    /// Path of the active Ed25519 signing key (PEM).
    pub signing_key_file: Option<PathBuf>,
    /// Older keys (PEM files, private or public) still accepted and published
    /// in the JWKS during a rotation.
    pub previous_key_files: Vec<PathBuf>,
    /// Shared secret for `algorithm = "HS256"` (at least 32 bytes).
    #[serde(skip_serializing)]
    pub hs256_secret: Option<SecretString>,
    pub argon2: Argon2Params,
    /// Password hashes computed at once; each takes `argon2.memory_kib`.
    pub max_concurrent_hashes: usize,
    /// External identity providers whose access tokens are accepted.
    pub external_providers: Vec<ProviderConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Login attempts per username per window (0 disables).
    pub login_per_username: u32,
    /// Login attempts per client address per window (0 disables).
    pub login_per_address: u32,
    pub login_window_secs: u64,
    /// Registrations per client address per window (0 disables).
    pub register_per_address: u32,
    pub register_window_secs: u64,
    /// Password confirmations (password change, account deletion) per
    /// account per login window (0 disables).
    pub password_checks_per_user: u32,
    /// Profile lookups (`GET /v1/users/{username}`, `POST /v1/contacts`)
    /// per caller per minute: per account when signed in, else per client
    /// address (0 disables).
    pub lookup_per_minute: u32,
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
    /// A `tracing` filter such as `info` or `passerelle_gateway=debug,info`.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            redis: RedisSettings::default(),
            auth: AuthSettings::default(),
            limits: LimitSettings::default(),
            ws: WsSettings::default(),
            routing: RoutingSettings::default(),
            conversations: ConversationSettings::default(),
            rooms: RoomSettings::default(),
            typing: TypingSettings::default(),
            presence: PresenceSettings::default(),
            blobs: BlobSettings::default(),
            log: LogSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: 0,
            shutdown_timeout_secs: 10,
            max_body_bytes: 16 * 1024,
            trust_forwarded_for: false,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "passerelle".into(),
            audience: "passerelle".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            leeway_secs: 30,
            algorithm: TokenAlgorithm::EdDSA,
            signing_key: None,
            signing_key_file: None,
            previous_key_files: Vec::new(),
            hs256_secret: None,
            argon2: Argon2Params::default(),
            max_concurrent_hashes: 4,
            external_providers: Vec::new(),
        }
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_per_username: 10,
            login_per_address: 100,
            login_window_secs: 300,
            register_per_address: 20,
            register_window_secs: 3600,
            password_checks_per_user: 10,
            lookup_per_minute: 60,
        }
    }
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
        fig.merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database.url".into()),
        )
        .merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()))
        .merge(Env::prefixed("PASSERELLE__").split("__"))
        .extract()
        .map_err(Box::new)
    }

    /// The database URL to use: the configured one, or the embedded file.
    pub fn database_url(&self) -> String {
        use secrecy::ExposeSecret;
        match &self.database.url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                url.expose_secret().trim().to_owned()
            }
            _ => self
                .data_dir
                .join("passerelle.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// The Redis URL, if one is configured.
    pub fn redis_url(&self) -> Option<String> {
        use secrecy::ExposeSecret;
        self.redis
            .url
            .as_ref()
            .map(|u| u.expose_secret().trim().to_owned())
            .filter(|u| !u.is_empty())
    }
}
