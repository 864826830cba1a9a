//! Test harness for the integration suite: starts the real `passerelle`
//! binary as a child process on `127.0.0.1:0`, against a database of its own,
//! and captures everything it logs.
//!
//! The backend comes from `PASSERELLE_TEST_BACKEND`: `sqlite` (default: a
//! temp-file database per node) or `postgres` (a fresh database per test,
//! cloned from a template migrated once per migration set, at
//! `PASSERELLE_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; Redis at
//! `PASSERELLE_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`, with a
//! key namespace per test). If the configured Postgres or Redis cannot be
//! reached the test fails; it never skips.
//!
//! [`weed::Weed`] starts a SeaweedFS S3 server for the blob-store tests.
//!
//! Child processes rather than in-process servers: every node gets its own
//! global logger and metrics recorder, a test can kill a node like an
//! operator would, and what is tested is exactly the shipped binary.

// A harness fails the test that uses it by panicking with a message.
#![allow(clippy::expect_used)]

mod backend;
mod server;
pub mod weed;

pub use backend::{Backend, TestDatabase};
pub use server::{TestServer, TestServerBuilder};
