//! Shared application state, built once at start-up and handed to every
//! worker as `web::Data<AppState>` (an `Arc`): no globals, so tests and
//! several nodes in one process stay independent.

use std::sync::Arc;
use std::time::Duration;

use passerelle_auth::access::AccessTokens;
use passerelle_auth::external::ExternalVerifier;
use passerelle_auth::password::PasswordHasher;
use passerelle_bus::{Fanout, RateLimiter, RedisLink, SessionRegistry};
use passerelle_store::Store;

use crate::blobs::BlobService;
use crate::config::Settings;
use crate::presence::PresenceService;
use crate::rooms::LocalRooms;
use crate::routing::hub::Hub;
use crate::routing::writer::Router;

#[derive(Clone)]
pub struct AppState {
    /// The record: every account, device and token row.
    pub store: Store,
    /// Issues and checks this gateway's own access tokens.
    pub tokens: AccessTokens,
    /// Checks tokens of configured external identity providers.
    pub external: ExternalVerifier,
    /// argon2id, off the async workers and bounded in concurrency.
    pub hasher: PasswordHasher,
    /// Login/registration throttles, shared through Redis when configured.
    pub limiter: RateLimiter,
    /// The node's Redis link, for readiness (None in embedded mode).
    pub redis: Option<RedisLink>,
    /// Per-user channels to every node (Redis, or in process).
    pub fanout: Fanout,
    /// This node's live sessions.
    pub hub: Hub,
    /// The batching writer of sends and acknowledgements.
    pub router: Router,
    /// Live sessions across nodes, for the per-device and per-user caps.
    pub sessions: SessionRegistry,
    /// This node's id (random per process): written on the room presence
    /// of its sessions, so that other nodes can sweep it if this one dies.
    pub node: uuid::Uuid,
    /// This node's sessions that are in link rooms.
    pub rooms: LocalRooms,
    /// User presence: sessions opening, closing and going away, and the
    /// announcements to online watchers.
    pub presence: PresenceService,
    /// Capabilities for the blob store (the bytes never come here).
    pub blobs: BlobService,
    /// The JWKS document, rendered once (keys only change on restart).
    pub jwks: Arc<serde_json::Value>,
    pub settings: Arc<Settings>,
}

impl AppState {
    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(
            self.settings
                .auth
                .refresh_token_ttl_days
                .saturating_mul(86_400),
        )
    }
}
