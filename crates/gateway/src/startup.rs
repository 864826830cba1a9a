//! Building and running a node: state from settings, the HTTP server bound to
//! its address (port 0 works: tests read the bound address back), graceful
//! shutdown on SIGTERM/SIGINT.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use metrics_exporter_prometheus::PrometheusHandle;
use passerelle_api_types::ws;
use passerelle_auth::KeySet;
use passerelle_auth::access::{AccessTokenConfig, AccessTokens};
use passerelle_auth::external::ExternalVerifier;
use passerelle_auth::password::PasswordHasher;
use passerelle_bus::{Fanout, RateLimiter, RedisLink, SessionRegistry};
use passerelle_store::{Backend, Store};
use secrecy::ExposeSecret;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::{Settings, TokenAlgorithm};
use crate::error::{json_config, not_found, path_config, query_config};
use crate::openapi::ApiDoc;
use crate::presence::PresenceService;
use crate::rooms::liveness;
use crate::routing::events;
use crate::routing::hub::Hub;
use crate::routing::writer::Router;
use crate::routing::{expiry, sweeper};
use crate::state::AppState;
use crate::{middleware, routes};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest `conversations.game_invite_ttl_secs` (a year).
const MAX_GAME_INVITE_TTL_SECS: u64 = 365 * 86_400;

/// A node ready to serve.
pub struct Application {
    server: Server,
    addr: SocketAddr,
    hub: Hub,
    shutdown_timeout: Duration,
    /// For the clean-up of this node's room presence after the drain.
    store: Store,
    fanout: Fanout,
    node: uuid::Uuid,
    presence: PresenceService,
    blobs: crate::blobs::BlobService,
}

impl Application {
    /// Connects the store (applying pending migrations), loads keys, binds.
    pub async fn build(settings: Settings, metrics: PrometheusHandle) -> Result<Self, BoxError> {
        let settings = Arc::new(settings);
        let state = build_state(settings.clone()).await?;
        let hub = state.hub.clone();
        let (store, fanout, node) = (state.store.clone(), state.fanout.clone(), state.node);
        let presence = state.presence.clone();
        let blobs = state.blobs.clone();
        let listener = TcpListener::bind(settings.server.bind)?;
        let addr = listener.local_addr()?;
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let max_body = settings.server.max_body_bytes;
        let send_buffer = settings.ws.socket_send_buffer;
        let state = web::Data::new(state);
        let metrics = web::Data::new(metrics);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(json_config(max_body))
                .app_data(path_config())
                .app_data(query_config())
                .app_data(web::PayloadConfig::new(max_body))
                .wrap(from_fn(middleware::blind))
                .wrap(from_fn(middleware::observe))
                .configure(routes::configure)
                .service(web::redirect("/docs", "/docs/"))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
                .default_service(web::to(not_found))
        })
        .on_connect(move |conn, _| {
            if send_buffer > 0
                && let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>()
                && let Err(e) =
                    socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer as usize)
            {
                tracing::debug!(error = %e, "could not set the socket send buffer");
            }
        })
        .workers(workers)
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .disable_signals()
        .listen(listener)?
        .run();
        tracing::info!(addr = %addr, workers, "listening");
        Ok(Self {
            server,
            addr,
            hub,
            shutdown_timeout: Duration::from_secs(settings.server.shutdown_timeout_secs),
            store,
            fanout,
            node,
            presence,
            blobs,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until SIGTERM/SIGINT. Then: stop accepting, tell every
    /// WebSocket session to reconnect elsewhere (close 1012), wait for them
    /// to go (each leaves its link rooms as it ends) and for in-flight
    /// requests to finish, all within `server.shutdown_timeout_secs`;
    /// finally remove this node's row and any room presence its sessions
    /// left behind.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let hub = self.hub.clone();
        let deadline = self.shutdown_timeout;
        tokio::spawn(async move {
            wait_for_signal().await;
            let started = tokio::time::Instant::now();
            tracing::info!(sessions = hub.session_count(), "shutting down");
            let stopping = handle.stop(true);
            hub.close_all(
                ws::close::RESTART,
                "server restarting: reconnect and resume",
            );
            while hub.session_count() > 0 && started.elapsed() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::timeout(deadline.saturating_sub(started.elapsed()), stopping)
                .await
                .ok();
        });
        let served = self.server.await;
        self.blobs.stop().await;
        let presence = self.presence.clone();
        let retiring = async move {
            presence.retire().await;
            liveness::retire(&self.store, &self.fanout, self.node).await;
        };
        if tokio::time::timeout(RETIRE_TIMEOUT, retiring)
            .await
            .is_err()
        {
            tracing::warn!("room presence clean-up timed out; other nodes will sweep it");
        }
        served
    }
}

/// How long a stopping node spends removing its room presence.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(5);

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Opens the store and applies pending migrations.
pub async fn open_store(settings: &Settings) -> Result<Store, BoxError> {
    let url = settings.database_url();
    let store = Store::connect(&url, settings.database.pool_size).await?;
    let applied = store.migrate().await?;
    tracing::info!(backend = ?store.backend(), applied = applied.len(), "database ready");
    Ok(store)
}

async fn build_state(settings: Arc<Settings>) -> Result<AppState, BoxError> {
    let store = open_store(&settings).await?;
    let keys = load_keys(&settings, store.backend())?;
    let auth = &settings.auth;
    let tokens = AccessTokens::new(
        keys.clone(),
        AccessTokenConfig {
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
            ttl: Duration::from_secs(auth.access_token_ttl_secs),
            leeway_secs: auth.leeway_secs,
        },
    );
    if auth
        .external_providers
        .iter()
        .any(|p| p.issuer == auth.issuer)
    {
        return Err(format!(
            "auth.external_providers: issuer {:?} is this gateway's own auth.issuer",
            auth.issuer
        )
        .into());
    }
    let caps = &settings.conversations;
    if passerelle_domain::check_member_cap(caps.default_member_cap, caps.max_member_cap).is_err() {
        return Err(format!(
            "conversations: default_member_cap ({}) must be {} to max_member_cap ({}), and max_member_cap at least {}",
            caps.default_member_cap,
            passerelle_domain::MIN_MEMBER_CAP,
            caps.max_member_cap,
            passerelle_domain::MIN_MEMBER_CAP,
        )
        .into());
    }
    if !(1..=MAX_GAME_INVITE_TTL_SECS).contains(&caps.game_invite_ttl_secs) {
        return Err(format!(
            "conversations.game_invite_ttl_secs ({}) must be 1 to {MAX_GAME_INVITE_TTL_SECS}",
            caps.game_invite_ttl_secs
        )
        .into());
    }
    let external = ExternalVerifier::new(auth.external_providers.clone())?;
    let hasher = PasswordHasher::new(auth.argon2.clone(), auth.max_concurrent_hashes.max(1))?;
    let redis = settings
        .redis_url()
        .map(|url| RedisLink::open(&url, &settings.redis.namespace))
        .transpose()?;
    let (limiter, sessions) = match &redis {
        Some(link) => (
            RateLimiter::shared(link.clone()),
            SessionRegistry::shared(link.clone()),
        ),
        None => (RateLimiter::local(), SessionRegistry::local()),
    };
    let (fanout, deliveries) = match settings.redis_url() {
        Some(url) => Fanout::redis(&url, &settings.redis.namespace)?,
        None => Fanout::local(),
    };
    let hub = Hub::start(fanout.clone(), deliveries, settings.ws.outbound_queue);
    let node = uuid::Uuid::new_v4();
    let local_rooms = crate::rooms::LocalRooms::default();
    let rooms = &settings.rooms;
    if rooms.member_cap < passerelle_domain::MIN_MEMBER_CAP {
        return Err(format!(
            "rooms.member_cap ({}) must be at least {}",
            rooms.member_cap,
            passerelle_domain::MIN_MEMBER_CAP
        )
        .into());
    }
    let presence = PresenceService::new(store.clone(), fanout.clone(), node, &settings.presence);
    presence.listen().await;
    let liveness = liveness::Liveness {
        store: store.clone(),
        fanout: fanout.clone(),
        hub: hub.clone(),
        local: local_rooms.clone(),
        node,
        every: Duration::from_secs(rooms.heartbeat_secs.max(1)),
        enter_grace: Duration::from_secs(rooms.enter_grace_secs),
        presence: presence.clone(),
    };
    liveness.first_beat().await?;
    liveness.start();
    presence.clone().start_sweep();
    let routing = &settings.routing;
    // One writer per node by default on both backends: on SQLite there is
    // one writer at a time anyway; on Postgres concurrent batches lock
    // overlapping device streams and wait for each other, so a second
    // writer adds waiting, not throughput (docs/benchmarks.md).
    let writers = match routing.writers {
        0 => 1,
        n => n,
    };
    let router = Router::start(
        store.clone(),
        fanout.clone(),
        events::rules(Duration::from_secs(caps.game_invite_ttl_secs)),
        writers,
        routing.max_batch,
        routing.queue,
    );
    tokio::spawn(sweeper::run(
        store.clone(),
        fanout.clone(),
        Duration::from_secs(routing.sweep_interval_secs),
        Duration::from_secs(routing.acked_grace_secs),
        Duration::from_secs(routing.retention_days.saturating_mul(86_400)),
    ));
    tokio::spawn(expiry::run(
        store.clone(),
        fanout.clone(),
        Duration::from_secs(settings.conversations.expiry_sweep_secs),
    ));
    let blob_settings = settings.blobs.clone();
    let embedded = if blob_settings.embedded {
        Some(start_blob_store(&settings, keys.clone()).await?)
    } else {
        None
    };
    let bound = embedded.as_ref().map(|(addr, _)| *addr);
    let blobs = crate::blobs::BlobService::new(
        passerelle_auth::CapabilityIssuer::new(keys.clone(), &settings.auth.issuer),
        blob_settings.clone(),
        blob_settings.public_url(bound),
        blob_settings.internal(bound),
        embedded.map(|(_, stop)| stop),
    );
    crate::blobs::retention::start(store.clone(), blobs.clone());
    Ok(AppState {
        blobs,
        store,
        tokens,
        external,
        hasher,
        limiter,
        redis,
        fanout,
        hub,
        router,
        sessions,
        node,
        rooms: local_rooms,
        presence,
        jwks: Arc::new(keys.jwks()),
        settings,
    })
}

/// Starts the embedded blob store on `blobs.bind`, checking capabilities
/// with this gateway's own keys; returns where it listens and how to stop
/// it.
async fn start_blob_store(
    settings: &Settings,
    keys: KeySet,
) -> Result<(SocketAddr, passerelle_blobstore::StopHandle), BoxError> {
    let mut store = passerelle_blobstore::Settings::default();
    store.server.bind = settings.blobs.bind;
    store.server.workers = settings.server.workers;
    store.max_blob_bytes = settings.blobs.max_bytes;
    store.storage = settings.blobs.storage.clone();
    if store.storage.local.dir == passerelle_blobstore::config::LocalSettings::default().dir {
        store.storage.local.dir = settings.data_dir.join("blobs");
    }
    let verifier = passerelle_auth::CapabilityVerifier::from_key_set(
        keys,
        &settings.auth.issuer,
        settings.auth.leeway_secs,
    );
    let server = passerelle_blobstore::build(store, verifier).await?;
    let addr = server.local_addr();
    let stop = server.handle();
    tokio::spawn(async move {
        if let Err(e) = server.run().await {
            tracing::error!(error = %e, "the embedded blob store stopped");
        }
    });
    tracing::info!(addr = %addr, "embedded blob store listening");
    Ok((addr, stop))
}

fn read(path: &std::path::Path) -> Result<String, BoxError> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read key file {}: {e}", path.display()).into())
}

/// The token keys: HS256 from its secret; Ed25519 from the configured PEM
/// (inline or file, plus previous keys), else from `<data_dir>/keys`,
/// generated on first start.
fn load_keys(settings: &Settings, backend: Backend) -> Result<KeySet, BoxError> {
    let auth = &settings.auth;
    if auth.algorithm == TokenAlgorithm::HS256 {
        let secret = auth
            .hs256_secret
            .as_ref()
            .ok_or("auth.algorithm = HS256 needs auth.hs256_secret")?;
        return Ok(KeySet::hs256(secret.expose_secret().as_bytes())?);
    }
    let previous = auth
        .previous_key_files
        .iter()
        .map(|p| read(p))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(pem) = &auth.signing_key {
        return Ok(KeySet::ed25519_from_pem(pem.expose_secret(), &previous)?);
    }
    if let Some(path) = &auth.signing_key_file {
        return Ok(KeySet::ed25519_from_pem(&read(path)?, &previous)?);
    }
    let dir = settings.data_dir.join("keys");
    let (keys, _generated) = KeySet::ed25519_load_or_generate_dir(&dir)?;
    if backend == Backend::Postgres {
        tracing::warn!(
            "token keys come from this node's data directory; nodes sharing a database must share keys (set auth.signing_key_file)"
        );
    }
    Ok(keys)
}
