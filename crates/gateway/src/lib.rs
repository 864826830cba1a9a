//! The Passerelle gateway: REST and WebSocket in front of the store, the
//! auth layer and the bus. `main.rs` only calls
//! [`cli::run`]; everything else is here so it can be read and tested as a
//! library.
//!
//! Layout: `config` (typed settings), `telemetry` (logs), `startup`
//! (building and running a node), `state` (what handlers share), `error`
//! (the one HTTP error type), `authn` (who is calling), `provision`
//! (accounts from external identity providers), `middleware` (request id,
//! access log, metrics), `routes/<resource>/<verb>.rs`, `openapi`, `routing` (batching writer,
//! hub, envelopes, retention sweep), `rooms` (link rooms: presence, node
//! liveness and sweeps), `ws` (the WebSocket endpoint).

pub mod authn;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod device_list;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod presence;
pub mod provision;
pub mod rooms;
pub mod routes;
pub mod routing;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod ws;
