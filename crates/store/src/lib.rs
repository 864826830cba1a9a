//! Passerelle's persistence layer: accounts (users, devices, refresh
//! tokens), the social graph (contacts, blocks, profiles and privacy
//! settings), conversations (direct, groups, members, invitations), link
//! rooms and who is in them, message metadata and every device's durable
//! event stream, in
//! PostgreSQL or SQLite through one diesel code path.
//!
//! Owns the schema, the embedded migrations and every query. Diesel stays
//! inside: callers get a [`Store`] (pool + backend), run closures on an
//! opaque [`DbConn`] via [`Store::run`] / [`Store::transaction`] (on the
//! blocking thread pool), and call the query functions in [`users`],
//! [`devices`], [`refresh_tokens`], [`social`], [`conversations`],
//! [`rooms`], [`games`], [`streams`], [`batch`], [`expiry`], [`presence`],
//! [`blobs`] and [`typing`] (a read only: typing is never stored).
//! No message content or key material is ever stored here.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod checkpoint;
mod conn;
mod error;
mod introspect;
mod schema;
mod sql_types;
mod store;

#[cfg(test)]
mod storage_tests;

pub mod admin;
pub mod batch;
pub mod blobs;
pub mod conversations;
pub mod device_directory;
pub mod devices;
pub mod expiry;
pub mod games;
pub mod history;
pub mod presence;
pub mod read_markers;
pub mod receipts;
pub mod refresh_tokens;
pub mod rooms;
pub mod social;
pub mod streams;
pub mod typing;
pub mod unread_summary;
pub mod users;

pub use conn::DbConn;
pub use error::{StoreError, StoreResult};
pub use passerelle_domain::{DeviceId, Relation, UserId};
pub use store::{PoolOptions, Store};

use chrono::{DateTime, SubsecRound, Utc};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The current time in UTC, truncated to microseconds (the precision both
/// backends store), so values round-trip exactly.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
