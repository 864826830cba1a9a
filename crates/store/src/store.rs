//! The [`Store`] handle: an r2d2 pool of [`DbConn`]s plus the backend kind.
//! Owns pool sizing, the blocking-thread hop (every DB call runs on
//! `spawn_blocking`), transactions, embedded migrations and the health /
//! schema-inspection helpers used by readiness checks and tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::conn::{AnyConnection, DbConn, Manager, Target, WriterLock, establish, target};
use crate::error::{StoreError, StoreResult};
use crate::{Backend, checkpoint, introspect};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Pool settings. [`PoolOptions::for_backend`] gives the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a checkout (or the first connect) may wait. Short, so
    /// readiness checks fail fast.
    pub connection_timeout: Duration,
}

impl PoolOptions {
    /// SQLite: 4 connections (one writer at a time anyway); Postgres: 16.
    pub fn for_backend(backend: Backend) -> Self {
        let max_size = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        PoolOptions {
            max_size,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

impl Backend {
    /// The backend a database URL selects.
    pub fn from_url(url: &str) -> Backend {
        match target(url) {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(_) => Backend::Sqlite,
        }
    }
}

struct Inner {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// Keeps the SQLite checkpointer thread running (see [`checkpoint`]).
    _checkpointer: Option<Arc<()>>,
}

/// Cheap-to-clone handle on the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .field("max_size", &self.inner.pool.max_size())
            .finish()
    }
}

fn join_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Internal(format!("blocking task failed: {e}"))
}

impl Store {
    /// Connects with the default pool options for the URL's backend,
    /// overriding the pool size when `max_size` is given.
    pub async fn connect(url: &str, max_size: Option<u32>) -> StoreResult<Store> {
        let mut options = PoolOptions::for_backend(Backend::from_url(url));
        if let Some(n) = max_size {
            options.max_size = n.max(1);
        }
        Self::connect_with(url, options).await
    }

    /// Connects with explicit pool options. One connection is opened first
    /// so a bad URL or a down database fails at once with the real error.
    pub async fn connect_with(url: &str, options: PoolOptions) -> StoreResult<Store> {
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            let backend = Backend::from_url(&url);
            let in_memory = matches!(target(&url), Target::Sqlite(":memory:"));
            drop(establish(&url)?);
            // No idle connections kept on purpose (`min_idle` 0): otherwise
            // r2d2 opens a replacement on its own thread each time the last
            // idle one is checked out, and a process that ends meanwhile (a
            // `passerelle migrate` right after its one query) can crash in
            // libpq's TLS teardown while that thread is connecting. Used
            // connections stay pooled until `idle_timeout`.
            let mut builder = r2d2::Pool::builder()
                .max_size(if in_memory { 1 } else { options.max_size })
                .min_idle(Some(if in_memory { 1 } else { 0 }))
                .connection_timeout(options.connection_timeout);
            if in_memory {
                // Each in-memory connection is its own database: keep the one.
                builder = builder.idle_timeout(None).max_lifetime(None);
            }
            let checkpointer = (backend == Backend::Sqlite && !in_memory).then(|| {
                let token = checkpoint::token();
                checkpoint::start(url.clone(), Arc::downgrade(&token));
                token
            });
            let pool = builder
                .build(Manager(url, WriterLock::default()))
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(Store {
                inner: Arc::new(Inner {
                    pool,
                    backend,
                    _checkpointer: checkpointer,
                }),
            })
        })
        .await
        .map_err(join_error)?
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Checks out a connection on a blocking thread and runs `f` with it.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConn) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(join_error)?
    }

    /// Like [`Store::run`], inside one transaction: committed when `f`
    /// returns `Ok`, rolled back when it returns `Err`.
    pub async fn transaction<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConn) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.tx(f)).await
    }

    /// Applies pending embedded migrations; returns the names applied now
    /// (empty when already up to date).
    pub async fn migrate(&self) -> StoreResult<Vec<String>> {
        self.run(|conn| {
            let source = match conn.0 {
                AnyConnection::Postgresql(_) => PG_MIGRATIONS,
                AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
            };
            let migration_error = |e: Box<dyn std::error::Error + Send + Sync>| {
                StoreError::Internal(format!("migration failed: {e}"))
            };
            let all =
                MigrationSource::<diesel::pg::Pg>::migrations(&source).map_err(migration_error)?;
            let applied = match &mut conn.0 {
                AnyConnection::Postgresql(c) => c.run_pending_migrations(source),
                AnyConnection::Sqlite(c) => c.run_pending_migrations(source),
            }
            .map_err(migration_error)?;
            let names = applied
                .iter()
                .map(|version| {
                    all.iter()
                        .find(|m| m.name().version() == *version)
                        .map(|m| m.name().to_string())
                        .unwrap_or_else(|| version.to_string())
                })
                .collect::<Vec<_>>();
            for name in &names {
                tracing::info!(migration = %name, "applied migration");
            }
            Ok(names)
        })
        .await
    }

    /// `SELECT 1` on a pooled connection.
    pub async fn ping(&self) -> StoreResult<()> {
        self.run(|conn| {
            use diesel::connection::SimpleConnection;
            conn.0
                .batch_execute("SELECT 1")
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        })
        .await
    }

    /// Table name to its sorted column names, read from the database's own
    /// catalogue (migration bookkeeping and `sqlite_*` tables excluded).
    pub async fn describe_schema(&self) -> StoreResult<BTreeMap<String, Vec<String>>> {
        self.run(introspect::describe_schema).await
    }

    /// Proves `schema.rs` matches the migrated database: selects every
    /// column of every table through diesel.
    pub async fn check_schema_rs(&self) -> StoreResult<()> {
        self.run(introspect::check_schema_rs).await
    }
}
