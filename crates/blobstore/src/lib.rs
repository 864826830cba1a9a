//! Passerelle's blob store: opaque bytes (clients' ciphertext) by id,
//! behind capabilities the gateway signs. It needs no database and never
//! calls the gateway per request: a capability (see
//! `passerelle_auth::capability`) names one blob and one operation, and is
//! checked with the gateway's keys.
//!
//! - `PUT /v1/blobs/{id}` (capability `put`): create-only, streamed,
//!   `Content-Length` required and capped, SHA-256 checked;
//! - `GET` / `HEAD /v1/blobs/{id}` (capability `get`): streamed, single
//!   `Range`s, `ETag` = SHA-256;
//! - `DELETE /v1/blobs/{id}` (capability `delete`): idempotent;
//! - `GET /healthz`.
//!
//! Backends ([`backend::Storage`]): a local directory (the default) or an
//! S3-compatible store. See `docs/blobstore.md`.
//!
//! # Running it beside the gateway
//!
//! In the gateway's process, on a port of its own, with the gateway's key
//! set (no JWKS fetch):
//!
//! ```no_run
//! # async fn example(keys: passerelle_auth::KeySet) -> Result<(), passerelle_blobstore::BoxError> {
//! use passerelle_auth::CapabilityVerifier;
//! let mut settings = passerelle_blobstore::Settings::default();
//! settings.server.bind = "127.0.0.1:0".parse()?;
//! settings.storage.local.dir = "data/blobs".into();
//! let verifier = CapabilityVerifier::from_key_set(keys, "passerelle", 30); // auth.issuer, leeway
//! let blobs = passerelle_blobstore::build(settings, verifier).await?;
//! println!("blob store on {}", blobs.local_addr());
//! let stop = blobs.handle();
//! let serving = tokio::spawn(blobs.run());
//! // ... on shutdown:
//! stop.stop(true).await;
//! serving.await??;
//! # Ok(()) }
//! ```
//!
//! The stand-alone binary (`passerelle-blobstore`) does the same with
//! [`verifier_from_settings`] (the gateway's JWKS URL, a JWKS file or a
//! public key file) and stops on SIGTERM/SIGINT.

pub mod backend;
pub mod config;
pub mod digest;
pub mod error;
pub mod id;
pub mod range;
pub mod startup;
pub mod telemetry;

mod access_log;
mod authz;
mod routes;
mod state;

pub use config::Settings;
pub use error::BlobError;
pub use startup::{BlobServer, BoxError, StopHandle, build, verifier_from_settings};
