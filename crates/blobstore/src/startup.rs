//! Building and running a blob store: the backend opened, the HTTP server
//! bound (port 0 works: read the address back with
//! [`BlobServer::local_addr`]), graceful stop through a [`StopHandle`] or
//! on SIGTERM/SIGINT.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use passerelle_auth::CapabilityVerifier;

use crate::backend::Storage;
use crate::config::{CapabilitySettings, Settings};
use crate::error::{not_found, path_config};
use crate::state::AppState;
use crate::{access_log, routes};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A blob store bound to its address, not yet serving.
pub struct BlobServer {
    server: Server,
    addr: SocketAddr,
}

/// Stops a running [`BlobServer`]. Cheap to clone.
#[derive(Clone)]
pub struct StopHandle(ServerHandle);

impl StopHandle {
    /// Stops accepting connections and waits for in-flight transfers to end
    /// (at most `server.shutdown_timeout_secs`); `graceful = false` drops
    /// them at once.
    pub async fn stop(&self, graceful: bool) {
        self.0.stop(graceful).await;
    }
}

/// Opens the backend and binds the HTTP server. Capabilities are checked
/// with `verifier`: [`CapabilityVerifier::from_key_set`] with the gateway's
/// keys when running in the gateway's process, or [`verifier_from_settings`]
/// on its own.
pub async fn build(
    settings: Settings,
    verifier: CapabilityVerifier,
) -> Result<BlobServer, BoxError> {
    let storage = Storage::open(&settings.storage).await?;
    let listener = TcpListener::bind(settings.server.bind)?;
    let addr = listener.local_addr()?;
    let workers = match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let backend = storage.kind();
    let state = web::Data::new(AppState {
        storage,
        verifier,
        max_blob_bytes: settings.max_blob_bytes,
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(path_config())
            .wrap(from_fn(access_log::log))
            .configure(routes::configure)
            .default_service(web::to(not_found))
    })
    .workers(workers)
    // A response's headers and its body's first chunk are often written
    // separately (the body streams from the backend); with Nagle on, the
    // second write waited for the client's delayed ACK, ~40 ms.
    .tcp_nodelay(true)
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(addr = %addr, backend, workers, "blob store listening");
    Ok(BlobServer { server, addr })
}

impl BlobServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that stops the server once it runs.
    pub fn handle(&self) -> StopHandle {
        StopHandle(self.server.handle())
    }

    /// Serves until stopped through a [`StopHandle`].
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let handle = self.handle();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            handle.stop(true).await;
        });
        self.run().await
    }
}

/// The verifier a stand-alone blob store uses: the gateway's JWKS (fetched
/// once, on a blocking thread, with a short timeout), a saved JWKS file, or
/// one public key file.
pub async fn verifier_from_settings(
    settings: &CapabilitySettings,
) -> Result<CapabilityVerifier, BoxError> {
    let sources = [
        settings.jwks_url.is_some(),
        settings.jwks_file.is_some(),
        settings.public_key_file.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err(
            "set exactly one of capabilities.jwks_url, capabilities.jwks_file and \
             capabilities.public_key_file"
                .into(),
        );
    }
    let (issuer, leeway) = (settings.issuer.clone(), settings.leeway_secs);
    if let Some(url) = settings.jwks_url.clone() {
        let fetch =
            tokio::task::spawn_blocking(move || CapabilityVerifier::fetch(&url, &issuer, leeway));
        return Ok(tokio::time::timeout(Duration::from_secs(30), fetch)
            .await
            .map_err(|_| "capabilities.jwks_url: timed out")??
            .map_err(|e| format!("capabilities.jwks_url: {e}"))?);
    }
    if let Some(path) = &settings.jwks_file {
        let doc = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| format!("capabilities.jwks_file {}: {e}", path.display()))?;
        return Ok(CapabilityVerifier::from_jwks(&doc, &issuer, leeway)
            .map_err(|e| format!("capabilities.jwks_file: {e}"))?);
    }
    let path = settings
        .public_key_file
        .as_ref()
        .ok_or("capabilities.public_key_file is unset")?;
    let pem = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| format!("capabilities.public_key_file {}: {e}", path.display()))?;
    Ok(CapabilityVerifier::from_public_pem(&pem, &issuer, leeway)
        .map_err(|e| format!("capabilities.public_key_file: {e}"))?)
}

async fn wait_for_signal() {
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
