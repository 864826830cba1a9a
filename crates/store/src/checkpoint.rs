//! SQLite WAL checkpoints off the commit path. With SQLite's default, the
//! connection whose commit pushes the WAL past 1,000 pages copies the WAL
//! back into the database file inside that commit, so every few hundred
//! batches one of them stalls. Instead the pool's connections checkpoint
//! automatically only as a safety net (a much larger threshold), and a
//! background thread with its own connection runs a `PASSIVE` checkpoint
//! (never waits for readers or writers) a few times a second. The thread
//! stops when the [`Store`](crate::Store) that started it is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::conn::{AnyConnection, establish};

/// WAL pages after which a committing connection checkpoints by itself
/// (~64 MiB with 4 KiB pages), only reached if the background thread falls
/// behind.
pub(crate) const AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// How often the background thread checkpoints.
const INTERVAL: Duration = Duration::from_millis(250);

/// Starts the checkpointer for the SQLite database at `url`; it runs while
/// `alive` can be upgraded.
pub(crate) fn start(url: String, alive: Weak<()>) {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut conn = match establish(&url) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "sqlite checkpointer could not connect");
                    return;
                }
            };
            loop {
                std::thread::sleep(INTERVAL);
                let Some(_alive) = alive.upgrade() else {
                    return;
                };
                if let AnyConnection::Sqlite(c) = &mut conn.0
                    && let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
                {
                    tracing::debug!(error = %e, "sqlite checkpoint failed");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "sqlite checkpointer not started");
    }
}

/// The token a [`Store`](crate::Store) holds to keep its checkpointer alive.
pub(crate) fn token() -> Arc<()> {
    Arc::new(())
}
