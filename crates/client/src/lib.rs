//! The reference Rust client for Passerelle: the REST auth, device and
//! account calls, and `passerelle.v1` WebSocket sessions.
//!
//! Used by the integration tests and the load generator, and meant as the
//! model for clients in other languages. All bodies and frames are the
//! `passerelle-api-types` definitions, so this crate cannot drift from the
//! gateway.
//!
//! - [`Client`] (module `rest`): one method per REST endpoint, plus
//!   [`Client::connect`] / [`Client::connect_with`] for sessions.
//! - [`Connection`], [`Sender`], [`Receiver`] (module `connection`): a live
//!   session, whole or split into halves for concurrent use.
//! - [`handshake`]: the upgrade contract (token as a `bearer.` subprotocol
//!   entry or an `Authorization` header, exact `passerelle.v1` echo);
//!   [`ConnectOptions`] (module `options`) sets how a session is opened.
//! - [`frames`]: client envelopes and server frame parsing.
//! - [`ClientError`]: every failure; its `Display` never shows a token.
//!
//! Plain `ws://` only: the crate is built without TLS.
//!
//! ```no_run
//! use passerelle_client::{Client, ClientError};
//!
//! # async fn demo() -> Result<(), ClientError> {
//! let client = Client::new("http://127.0.0.1:8080");
//! let tokens = client.register("alice", "correct horse battery", Some("laptop")).await?;
//! let mut conn = client.connect(&tokens.access_token).await?;
//! assert_eq!(conn.protocol(), "passerelle.v1");
//! // Every session opens with `ready`, then `unread` (the unread counts).
//! let (ready, unread) = conn.greeting().await?;
//! println!("{} conversations with unread messages", unread.conversations.len());
//! conn.resume(Some(ready.acked_seq)).await?;
//! conn.ping().await?;
//! while let Some(frame) = conn.next_timeout(std::time::Duration::from_secs(1)).await? {
//!     if let Some(seq) = frame.seq() {
//!         conn.ack(seq).await?;
//!     }
//! }
//! conn.close().await?;
//! # Ok(())
//! # }
//! ```

mod connection;
mod error;
pub mod frames;
pub mod handshake;
mod options;
mod rest;

pub use connection::{Connection, Receiver, Sender};
pub use error::ClientError;
pub use options::{ConnectOptions, TokenTransport};
pub use rest::Client;

/// The API types this client speaks, re-exported for convenience.
pub use passerelle_api_types as api;
/// The WebSocket protocol types (`ClientFrame`, `ServerFrame`, ...).
pub use passerelle_api_types::ws;
