//! Connections: the diesel `MultiConnection` over Postgres and SQLite, the
//! opaque [`DbConn`] handed to query functions, URL-scheme dispatch, SQLite
//! per-connection pragmas, and the r2d2 manager that keeps real connection
//! errors (diesel's generated `establish` hides them; deps.md P5).

use std::path::Path;

use diesel::connection::{
    AnsiTransactionManager, Connection, SimpleConnection, TransactionManager,
};
use diesel::{PgConnection, SqliteConnection};

use crate::Backend;
use crate::error::{DbResultExt, StoreError, StoreResult};

/// One connection to either backend. The derive generates `MultiBackend`.
#[derive(diesel::MultiConnection)]
pub(crate) enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// A database connection checked out of the pool. Opaque: only the store's
/// own query functions (`users::*`, `devices::*`, ...) can use it.
/// The second field counts the transactions opened through `DbConn::tx`;
/// the third is the database's writer lock (SQLite only, see [`WriterLock`]);
/// the fourth is when the connection last went back to the pool (see
/// [`Manager`]'s `is_valid`).
pub struct DbConn(
    pub(crate) AnyConnection,
    u32,
    Option<WriterLock>,
    std::time::Instant,
);

/// One SQLite database takes one writer at a time. A deferred transaction
/// that reads and then writes fails at once with `SQLITE_BUSY_SNAPSHOT` when
/// another connection committed in between (the busy timeout does not apply
/// to that case), so the pool's connections take this lock for the whole of
/// each outermost transaction, and begin it with `BEGIN IMMEDIATE` (against
/// writes outside transactions, which do not take this lock). Readers
/// outside transactions never wait (WAL).
#[derive(Clone, Default)]
pub(crate) struct WriterLock(std::sync::Arc<std::sync::Mutex<()>>);

impl std::fmt::Debug for DbConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DbConn").field(&self.backend()).finish()
    }
}

impl DbConn {
    /// Which database this connection talks to.
    pub fn backend(&self) -> Backend {
        match self.0 {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Runs `f` inside a transaction (a savepoint when already inside one);
    /// commits on `Ok`, rolls back on `Err`.
    pub fn tx<T>(&mut self, f: impl FnOnce(&mut DbConn) -> StoreResult<T>) -> StoreResult<T> {
        type Tm = <AnyConnection as Connection>::TransactionManager;
        let writer = self.2.clone();
        // A panic while holding the lock leaves nothing half-written (the
        // transaction rolls back), so a poisoned lock is still usable.
        let _guard = match (&writer, self.1) {
            (Some(lock), 0) => Some(lock.0.lock().unwrap_or_else(|p| p.into_inner())),
            _ => None,
        };
        match (&mut self.0, self.1) {
            // The outermost SQLite transaction takes the write lock at once
            // (`BEGIN IMMEDIATE`): a single-statement write outside any
            // transaction (a node's heartbeat, a device's last-seen time)
            // then waits for it under the busy timeout instead of committing
            // between its reads and its first write, which would fail it
            // with `SQLITE_BUSY_SNAPSHOT` ("database is locked") at once.
            (AnyConnection::Sqlite(c), 0) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").db()?;
            }
            _ => Tm::begin_transaction(&mut self.0).db()?,
        }
        self.1 += 1;
        let result = f(self);
        self.1 -= 1;
        match result {
            Ok(value) => {
                Tm::commit_transaction(&mut self.0).db()?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = Tm::rollback_transaction(&mut self.0) {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }

    /// Runs `f` inside a savepoint that is always rolled back: what `f`
    /// computes is kept, what it wrote is not. Only inside a transaction
    /// (the caller's locks and reads stay), for a dry run of writes whose
    /// outcome decides whether to make them.
    pub(crate) fn rehearse<T>(
        &mut self,
        f: impl FnOnce(&mut DbConn) -> StoreResult<T>,
    ) -> StoreResult<T> {
        type Tm = <AnyConnection as Connection>::TransactionManager;
        if self.1 == 0 {
            return Err(StoreError::Internal(
                "rehearse outside a transaction".into(),
            ));
        }
        Tm::begin_transaction(&mut self.0).db()?;
        self.1 += 1;
        let result = f(self);
        self.1 -= 1;
        Tm::rollback_transaction(&mut self.0).db()?;
        result
    }

    /// Runs a statement that may fail with an expected error (a unique
    /// violation) so that, inside a caller's transaction, the failure does
    /// not poison it: on Postgres an error aborts the whole transaction, on
    /// SQLite it does not. A savepoint makes both behave like SQLite. Outside
    /// a transaction the statement runs as is.
    pub(crate) fn guarded<T>(
        &mut self,
        f: impl FnOnce(&mut DbConn) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if self.1 > 0 { self.tx(f) } else { f(self) }
    }
}

/// Runs the same diesel code on the concrete connection of either backend,
/// for the statements `MultiConnection` cannot express (batch inserts,
/// `FOR UPDATE`, arrays): `on_backend!(conn, |c| body)` binds `c` to the
/// `PgConnection` or the `SqliteConnection`.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match &mut $conn.0 {
            $crate::conn::AnyConnection::Postgresql($c) => $body,
            $crate::conn::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Where a URL points: `postgres://` / `postgresql://` is Postgres, anything
/// else is a SQLite file path (an optional `sqlite://` prefix is stripped).
pub(crate) enum Target<'a> {
    Postgres(&'a str),
    Sqlite(&'a str),
}

pub(crate) fn target(url: &str) -> Target<'_> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Target::Postgres(url)
    } else {
        Target::Sqlite(url.strip_prefix("sqlite://").unwrap_or(url))
    }
}

/// Per-connection SQLite settings: WAL (readers never block the writer),
/// a busy timeout, foreign keys on, `synchronous = NORMAL` (durable at
/// checkpoints; with WAL a crash loses at most the last transactions, never
/// consistency), reads through a 256 MiB memory map instead of one
/// `pread` per page, a 16 MiB page cache, and automatic checkpoints only
/// as a safety net (a background thread checkpoints, see
/// [`crate::checkpoint`]).
fn sqlite_pragmas() -> String {
    format!(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
         PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384; \
         PRAGMA wal_autocheckpoint = {};",
        crate::checkpoint::AUTOCHECKPOINT_PAGES
    )
}

/// Opens one connection, reporting the backend's own error text.
pub(crate) fn establish(url: &str) -> StoreResult<DbConn> {
    establish_with(url, WriterLock::default())
}

/// Opens one connection; SQLite connections share `writer`.
pub(crate) fn establish_with(url: &str, writer: WriterLock) -> StoreResult<DbConn> {
    let unavailable = |e: diesel::ConnectionError| StoreError::Unavailable(e.to_string());
    match target(url) {
        Target::Postgres(url) => Ok(DbConn(
            AnyConnection::Postgresql(PgConnection::establish(url).map_err(unavailable)?),
            0,
            None,
            std::time::Instant::now(),
        )),
        Target::Sqlite(path) => {
            if let Some(parent) = Path::new(path).parent()
                && path != ":memory:"
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Unavailable(format!(
                        "cannot create directory {}: {e}",
                        parent.display()
                    ))
                })?;
            }
            let mut conn = SqliteConnection::establish(path).map_err(unavailable)?;
            conn.batch_execute(&sqlite_pragmas())
                .map_err(|e| StoreError::Unavailable(format!("sqlite pragmas: {e}")))?;
            Ok(DbConn(
                AnyConnection::Sqlite(conn),
                0,
                Some(writer),
                std::time::Instant::now(),
            ))
        }
    }
}

/// How long after its last use a pooled connection is trusted without a
/// test query.
const RECENTLY_USED: std::time::Duration = std::time::Duration::from_secs(2);

/// r2d2 manager dispatching on the URL scheme; its SQLite connections share
/// one writer lock.
pub(crate) struct Manager(pub(crate) String, pub(crate) WriterLock);

/// The manager's error: the message of the underlying failure.
#[derive(Debug)]
pub(crate) struct ManagerError(String);

impl std::fmt::Display for ManagerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ManagerError {}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ManagerError;

    fn connect(&self) -> Result<DbConn, ManagerError> {
        establish_with(&self.0, self.1.clone()).map_err(|e| ManagerError(e.to_string()))
    }

    /// A connection back from use within the last few seconds is taken as
    /// valid without a round trip (a checkout would otherwise cost a
    /// `SELECT 1` every time); an older one is tested. A connection that
    /// failed in use is marked broken and never comes back.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ManagerError> {
        if conn.3.elapsed() < RECENTLY_USED {
            return Ok(());
        }
        conn.0
            .batch_execute("SELECT 1")
            .map_err(|e| ManagerError(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.3 = std::time::Instant::now();
        std::thread::panicking() || conn.0.is_broken()
    }
}
