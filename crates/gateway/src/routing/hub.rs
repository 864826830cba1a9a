//! This node's live sessions, grouped by user, and the dispatch of bus
//! deliveries to them.
//!
//! A session [`Hub::join`]s with its user and device and gets a bounded
//! queue of [`Outbound`] items plus a close signal. The first session of a
//! user on this node subscribes the node to the user's channel, the last one
//! leaving unsubscribes it; those changes go through one task, which always
//! applies the *current* wish for the user, so racing joins and leaves
//! converge. `join` returns once the subscription is active: a session that
//! then replays its stream from the database cannot miss an event in
//! between, because events are published only after they are committed.
//!
//! A session whose queue is full is too slow: it is told to close with
//! `SLOW_CONSUMER` and resumes from its cursor after reconnecting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use passerelle_api_types::ws::close;
use passerelle_bus::{Fanout, FanoutEvent};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use super::envelope::Envelope;

/// What the hub hands a session.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Stream events of one batch for this session's device, in sequence
    /// order: each with its frame text.
    Frames(Vec<(u64, Arc<str>)>),
    /// A frame outside the stream, sent as it is whether or not the session
    /// has resumed.
    Ephemeral(Arc<str>),
    /// The bus may have lost deliveries: catch up from the database.
    Resync,
}

/// A close order: code and reason.
pub type CloseOrder = Option<(u16, String)>;

struct Entry {
    connection: Uuid,
    device: Uuid,
    tx: mpsc::Sender<Outbound>,
    close: watch::Sender<CloseOrder>,
}

impl Entry {
    fn order_close(&self, code: u16, reason: &str) {
        let _ = self.close.send(Some((code, reason.to_owned())));
    }

    fn offer(&self, item: Outbound) {
        if self.tx.try_send(item).is_err() {
            metrics::counter!("passerelle_ws_slow_consumers_total").increment(1);
            self.order_close(close::SLOW_CONSUMER, "too slow: reconnect and resume");
        }
    }
}

const SHARDS: usize = 64;

struct Inner {
    /// user → their sessions on this node, sharded to keep locks short.
    shards: Vec<Mutex<HashMap<Uuid, Vec<Entry>>>>,
    /// Subscription changes, applied in order by one task.
    subscriptions: mpsc::UnboundedSender<(Uuid, Option<oneshot::Sender<()>>)>,
    sessions: AtomicUsize,
    queue: usize,
}

/// The node's session table. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// What a joining session gets: its queue, its close signal, and a guard
/// that leaves the hub when dropped.
pub struct Membership {
    pub outbound: mpsc::Receiver<Outbound>,
    pub close: watch::Receiver<CloseOrder>,
    pub guard: LeaveGuard,
}

/// Removes the session from the hub when dropped.
pub struct LeaveGuard {
    hub: Hub,
    user: Uuid,
    connection: Uuid,
}

impl Drop for LeaveGuard {
    fn drop(&mut self) {
        self.hub.leave(self.user, self.connection);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a shard leaves a consistent map (entries are
    // pushed or removed whole), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    /// Starts the hub: one task dispatching `deliveries`, one applying
    /// subscription changes to `fanout`. Must be called in a Tokio runtime.
    pub fn start(fanout: Fanout, deliveries: mpsc::Receiver<FanoutEvent>, queue: usize) -> Hub {
        let (sub_tx, sub_rx) = mpsc::unbounded_channel();
        let hub = Hub {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
                subscriptions: sub_tx,
                sessions: AtomicUsize::new(0),
                queue: queue.max(1),
            }),
        };
        tokio::spawn(hub.clone().apply_subscriptions(fanout, sub_rx));
        tokio::spawn(hub.clone().dispatch(deliveries));
        hub
    }

    fn shard(&self, user: &Uuid) -> &Mutex<HashMap<Uuid, Vec<Entry>>> {
        let i = (user.as_u128() % SHARDS as u128) as usize;
        &self.inner.shards[i]
    }

    /// Registers a session; returns once this node receives the user's
    /// deliveries (or the bus said it could not subscribe: the session then
    /// relies on resyncs).
    pub async fn join(&self, user: Uuid, device: Uuid, connection: Uuid) -> Membership {
        let (tx, outbound) = mpsc::channel(self.inner.queue);
        let (close_tx, close) = watch::channel(None);
        lock(self.shard(&user))
            .entry(user)
            .or_default()
            .push(Entry {
                connection,
                device,
                tx,
                close: close_tx,
            });
        self.inner.sessions.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("passerelle_ws_sessions").increment(1.0);
        // Processed in order after any earlier change for this user, so when
        // it is done the subscription is in place.
        let (done_tx, done) = oneshot::channel();
        if self.inner.subscriptions.send((user, Some(done_tx))).is_ok() {
            let _ = done.await;
        }
        Membership {
            outbound,
            close,
            guard: LeaveGuard {
                hub: self.clone(),
                user,
                connection,
            },
        }
    }

    fn leave(&self, user: Uuid, connection: Uuid) {
        let last = {
            let mut shard = lock(self.shard(&user));
            let Some(list) = shard.get_mut(&user) else {
                return;
            };
            list.retain(|e| e.connection != connection);
            let empty = list.is_empty();
            if empty {
                shard.remove(&user);
            }
            empty
        };
        self.inner.sessions.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("passerelle_ws_sessions").decrement(1.0);
        if last {
            let _ = self.inner.subscriptions.send((user, None));
        }
    }

    /// Sessions on this node.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.load(Ordering::Relaxed)
    }

    /// Orders every session on this node to close (graceful shutdown).
    pub fn close_all(&self, code: u16, reason: &str) {
        for shard in &self.inner.shards {
            for entry in lock(shard).values().flatten() {
                entry.order_close(code, reason);
            }
        }
    }

    /// Orders the sessions of `devices` of `user` (all when empty) on this
    /// node to close.
    pub fn close_local(&self, user: Uuid, devices: &[Uuid], code: u16, reason: &str) {
        if let Some(list) = lock(self.shard(&user)).get(&user) {
            for entry in list {
                if devices.is_empty() || devices.contains(&entry.device) {
                    entry.order_close(code, reason);
                }
            }
        }
    }

    /// Orders one session (`connection` of `user`) on this node to close.
    pub fn close_connection(&self, user: Uuid, connection: Uuid, code: u16, reason: &str) {
        if let Some(list) = lock(self.shard(&user)).get(&user) {
            for entry in list.iter().filter(|e| e.connection == connection) {
                entry.order_close(code, reason);
            }
        }
    }

    async fn apply_subscriptions(
        self,
        fanout: Fanout,
        mut changes: mpsc::UnboundedReceiver<(Uuid, Option<oneshot::Sender<()>>)>,
    ) {
        let mut subscribed: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
        while let Some((user, done)) = changes.recv().await {
            let wanted = lock(self.shard(&user)).contains_key(&user);
            if wanted && !subscribed.contains(&user) {
                if let Err(e) = fanout.subscribe(user).await {
                    tracing::warn!(error = %e, "bus subscribe failed; sessions will resync");
                }
                subscribed.insert(user);
            } else if !wanted
                && subscribed.remove(&user)
                && let Err(e) = fanout.unsubscribe(user).await
            {
                tracing::warn!(error = %e, "bus unsubscribe failed");
            }
            if let Some(done) = done {
                let _ = done.send(());
            }
        }
    }

    async fn dispatch(self, mut deliveries: mpsc::Receiver<FanoutEvent>) {
        while let Some(event) = deliveries.recv().await {
            match event {
                FanoutEvent::Delivery { user, bytes } => {
                    let Some(envelope) = Envelope::decode(&bytes) else {
                        tracing::warn!("undecodable bus envelope dropped");
                        continue;
                    };
                    self.deliver(user, envelope);
                }
                FanoutEvent::Resync => {
                    metrics::counter!("passerelle_hub_resyncs_total").increment(1);
                    for shard in &self.inner.shards {
                        for entry in lock(shard).values().flatten() {
                            entry.offer(Outbound::Resync);
                        }
                    }
                }
            }
        }
    }

    /// Hands a live-only frame to every session of `user` on this node but
    /// `except`.
    fn offer_live(&self, user: Uuid, text: &Arc<str>, except: Option<Uuid>) {
        let shard = lock(self.shard(&user));
        let Some(list) = shard.get(&user) else {
            return;
        };
        for entry in list.iter().filter(|e| Some(e.connection) != except) {
            entry.offer(Outbound::Ephemeral(text.clone()));
        }
    }

    /// Every session on this node: `(user, connection)`.
    pub fn sessions(&self) -> Vec<(Uuid, Uuid)> {
        let mut out = Vec::with_capacity(self.session_count());
        for shard in &self.inner.shards {
            for (user, list) in lock(shard).iter() {
                out.extend(list.iter().map(|e| (*user, e.connection)));
            }
        }
        out
    }

    fn deliver(&self, user: Uuid, envelope: Envelope) {
        match envelope {
            Envelope::Events { events } => {
                let shard = lock(self.shard(&user));
                let Some(list) = shard.get(&user) else {
                    return;
                };
                // One frame text per event, shared by that device's sessions;
                // one queue item per session for the whole envelope.
                let mut texts: HashMap<(Uuid, u64), Arc<str>> = HashMap::new();
                for entry in list {
                    let frames: Vec<(u64, Arc<str>)> = events
                        .iter()
                        .filter(|e| e.device == entry.device)
                        .map(|e| {
                            let text = texts
                                .entry((e.device, e.seq))
                                .or_insert_with(|| Arc::from(e.frame_text()))
                                .clone();
                            (e.seq, text)
                        })
                        .collect();
                    if !frames.is_empty() {
                        entry.offer(Outbound::Frames(frames));
                    }
                }
            }
            Envelope::Ephemeral { frame, except } => {
                let text: Arc<str> = Arc::from(frame.get());
                self.offer_live(user, &text, except);
            }
            Envelope::Multicast { users, frame } => {
                let text: Arc<str> = Arc::from(frame.get());
                for user in users {
                    self.offer_live(user, &text, None);
                }
            }
            Envelope::Close {
                devices,
                code,
                reason,
            } => {
                self.close_local(user, &devices, code, &reason);
            }
        }
    }
}
