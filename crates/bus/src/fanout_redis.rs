//! The Redis side of [`Fanout`](crate::Fanout): pub/sub over one RESP3
//! connection per node, the node's set of subscribed users, and loss repair.
//!
//! Everything (SUBSCRIBE, UNSUBSCRIBE, PUBLISH and the pushed messages) goes
//! over one `ConnectionManager`, so a node holds one Redis connection however
//! many users it serves. Messages arrive as RESP3 pushes and are handed to the
//! hub's queue without ever blocking the connection.
//!
//! It also notices losses (a `Disconnection` push, a failed subscribe or
//! unsubscribe, an overflowing hub queue); repairing the subscriptions after
//! a disconnection is `fanout_repair`'s job.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ProtocolVersion, PushInfo, PushKind, RedisError, Value};
use tokio::runtime::Handle;
use tokio::sync::{RwLock, mpsc};
use uuid::Uuid;

use crate::fanout_repair::repair;
use crate::{BusError, FanoutEvent};

/// The Redis fan-out of one node. Cheap to clone.
#[derive(Clone)]
pub(crate) struct RedisFanout {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisFanout {
    // Never print the manager: its client carries the connection info.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFanout")
            .field("prefix", &self.shared.prefix)
            .finish()
    }
}

pub(crate) struct Shared {
    pub(crate) conn: ConnectionManager,
    /// `<namespace>:u:`, the prefix of every user channel.
    pub(crate) prefix: String,
    pub(crate) hub: mpsc::Sender<FanoutEvent>,
    /// Users this node wants to hear about, whether or not Redis confirmed.
    pub(crate) subscribed: Mutex<HashSet<Uuid>>,
    /// Users whose UNSUBSCRIBE failed: the server may still send them.
    pub(crate) stale: Mutex<HashSet<Uuid>>,
    /// Subscribe/unsubscribe hold it shared; the repair holds it exclusively
    /// while it compares and restores, so no change slips in between.
    pub(crate) gate: RwLock<()>,
    pub(crate) repair_running: AtomicBool,
    pub(crate) repair_needed: AtomicBool,
    /// A `Resync` for an overflow of the hub queue is waiting for room.
    pub(crate) overflow_resync: AtomicBool,
    pub(crate) runtime: Handle,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned set is still a valid set.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unavailable(what: &str, e: &RedisError) -> BusError {
    BusError::Unavailable(format!("fanout {what}: {e}"))
}

impl RedisFanout {
    /// Creates the fan-out without connecting (the first command connects).
    pub(crate) fn open(
        url: &str,
        namespace: &str,
        capacity: usize,
    ) -> Result<(Self, mpsc::Receiver<FanoutEvent>), BusError> {
        let runtime = Handle::try_current().map_err(|_| {
            BusError::Config("the fan-out must be created inside a Tokio runtime".into())
        })?;
        let client = redis::Client::open(url).map_err(|e| BusError::Config(e.to_string()))?;
        let info = client.get_connection_info().clone();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))
            .map_err(|e| BusError::Config(e.to_string()))?;

        // The push handler needs the shared state, which needs the manager:
        // the handler gets a weak reference once both exist (no cycle).
        let cell: Arc<OnceLock<Weak<Shared>>> = Arc::new(OnceLock::new());
        let handler_cell = cell.clone();
        let handler = move |push: PushInfo| -> Result<(), ()> {
            if let Some(shared) = handler_cell.get().and_then(Weak::upgrade) {
                shared.on_push(push);
            }
            Ok(())
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500))
            .set_push_sender(handler)
            .set_automatic_resubscription();
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;

        let (hub, rx) = mpsc::channel(capacity);
        let shared = Arc::new(Shared {
            conn,
            prefix: format!("{namespace}:u:"),
            hub,
            subscribed: Mutex::default(),
            stale: Mutex::default(),
            gate: RwLock::new(()),
            repair_running: AtomicBool::new(false),
            repair_needed: AtomicBool::new(false),
            overflow_resync: AtomicBool::new(false),
            runtime,
        });
        let _ = cell.set(Arc::downgrade(&shared));
        Ok((Self { shared }, rx))
    }

    pub(crate) async fn subscribe(&self, user: Uuid) -> Result<(), BusError> {
        let s = &self.shared;
        lock(&s.stale).remove(&user);
        {
            let mut subscribed = lock(&s.subscribed);
            if !subscribed.insert(user) {
                return Ok(());
            }
            metrics::gauge!("passerelle_fanout_subscriptions").set(subscribed.len() as f64);
        }
        let _gate = s.gate.read().await;
        let mut conn = s.conn.clone();
        conn.subscribe(s.channel(user)).await.map_err(|e| {
            // Still tracked: the repair subscribes it once Redis answers.
            s.start_repair();
            unavailable("subscribe", &e)
        })
    }

    pub(crate) async fn unsubscribe(&self, user: Uuid) -> Result<(), BusError> {
        let s = &self.shared;
        {
            let mut subscribed = lock(&s.subscribed);
            if !subscribed.remove(&user) {
                return Ok(());
            }
            metrics::gauge!("passerelle_fanout_subscriptions").set(subscribed.len() as f64);
        }
        let _gate = s.gate.read().await;
        let mut conn = s.conn.clone();
        conn.unsubscribe(s.channel(user)).await.map_err(|e| {
            // Deliveries for it are filtered out meanwhile.
            lock(&s.stale).insert(user);
            s.start_repair();
            unavailable("unsubscribe", &e)
        })
    }

    pub(crate) async fn publish(&self, items: Vec<(Uuid, Bytes)>) -> Result<(), BusError> {
        if items.is_empty() {
            return Ok(());
        }
        let s = &self.shared;
        // One pipeline: written in order on the one connection, so each
        // user's items are published in order, in one round trip.
        let mut pipe = redis::pipe();
        for (user, bytes) in &items {
            pipe.cmd("PUBLISH")
                .arg(s.channel(*user))
                .arg(bytes.as_ref())
                .ignore();
        }
        let mut conn = s.conn.clone();
        pipe.exec_async(&mut conn)
            .await
            .map_err(|e| unavailable("publish", &e))?;
        metrics::counter!("passerelle_fanout_published_total").increment(items.len() as u64);
        Ok(())
    }
}

impl Shared {
    pub(crate) fn channel(&self, user: Uuid) -> String {
        format!("{}{user}", self.prefix)
    }

    fn user_of(&self, channel: &[u8]) -> Option<Uuid> {
        let rest = channel.strip_prefix(self.prefix.as_bytes())?;
        Uuid::try_parse_ascii(rest).ok()
    }

    /// Runs on the connection's push path: must never block.
    fn on_push(self: Arc<Self>, push: PushInfo) {
        match push.kind {
            PushKind::Message => self.on_message(push.data),
            PushKind::Disconnection => {
                tracing::warn!("fanout: redis link dropped, repairing subscriptions");
                self.start_repair();
            }
            _ => {}
        }
    }

    fn on_message(self: Arc<Self>, data: Vec<Value>) {
        let mut data = data.into_iter();
        let (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) =
            (data.next(), data.next())
        else {
            return;
        };
        let Some(user) = self.user_of(&channel) else {
            return;
        };
        if !lock(&self.subscribed).contains(&user) {
            return;
        }
        metrics::counter!("passerelle_fanout_received_total").increment(1);
        let delivery = FanoutEvent::Delivery {
            user,
            bytes: Bytes::from(payload),
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.hub.try_send(delivery) {
            metrics::counter!("passerelle_fanout_dropped_total").increment(1);
            // One Resync per overflow, queued as soon as the hub makes room.
            if !self.overflow_resync.swap(true, Ordering::SeqCst) {
                let shared = self.clone();
                self.runtime.spawn(async move {
                    shared.queue_resync().await;
                    shared.overflow_resync.store(false, Ordering::SeqCst);
                });
            }
        }
    }

    pub(crate) async fn queue_resync(&self) {
        if self.hub.send(FanoutEvent::Resync).await.is_ok() {
            metrics::counter!("passerelle_fanout_resyncs_total").increment(1);
        }
    }

    /// Starts the repair task unless it is already running; a running task
    /// sees `repair_needed` and does one more round.
    pub(crate) fn start_repair(self: &Arc<Self>) {
        self.repair_needed.store(true, Ordering::SeqCst);
        if !self.repair_running.swap(true, Ordering::SeqCst) {
            self.runtime.spawn(repair(Arc::downgrade(self)));
        }
    }
}

#[cfg(test)]
#[path = "fanout_redis_tests.rs"]
mod tests;
