//! Per-user fan-out: one channel per user, carrying opaque event bytes to
//! every node that holds a session of that user.
//!
//! The gateway's hub subscribes a user when the node's first session of that
//! user opens and unsubscribes after the last one closes; it publishes every
//! event to the recipient user's channel, and the fan-out hands each delivery
//! to the hub of every subscribed node (including the publishing node).
//!
//! Delivery is at most once. Losses (Redis restarting, a node's link
//! dropping) are repaired by the gateway, not here: whenever the fan-out may
//! have missed something it emits [`FanoutEvent::Resync`], and sessions
//! re-read their durable streams from the database.

use bytes::Bytes;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::BusError;
use crate::fanout_redis::RedisFanout;

/// What the fan-out hands to the node's hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FanoutEvent {
    /// Bytes published to `user`'s channel.
    Delivery { user: Uuid, bytes: Bytes },
    /// Deliveries may have been lost (e.g. the link to Redis was re-made);
    /// every local session must catch up from the durable record.
    Resync,
}

/// Capacity of the queue from the fan-out to the hub. When the hub falls this
/// far behind, further deliveries are dropped and a `Resync` is queued.
pub const HUB_QUEUE: usize = 65_536;

/// The node's fan-out. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Fanout {
    inner: Inner,
}

#[derive(Clone, Debug)]
enum Inner {
    /// One process: publishing is handing the bytes to this node's hub.
    Local(LocalFanout),
    /// Several nodes: Redis pub/sub, one connection per node.
    Redis(RedisFanout),
}

impl Fanout {
    /// In-process fan-out for the embedded single-node default. Returns the
    /// fan-out and the receiver the hub reads.
    pub fn local() -> (Fanout, mpsc::Receiver<FanoutEvent>) {
        let (tx, rx) = mpsc::channel(HUB_QUEUE);
        (
            Fanout {
                inner: Inner::Local(LocalFanout { tx }),
            },
            rx,
        )
    }

    /// Fan-out over Redis pub/sub: one channel per user named
    /// `<namespace>:u:<uuid>`, one connection per node for all subscriptions
    /// and publishes. Does not connect: the node starts while Redis is down
    /// and the fan-out catches up (with a `Resync`) once it is back. Must be
    /// called inside a Tokio runtime.
    pub fn redis(
        url: &str,
        namespace: &str,
    ) -> Result<(Fanout, mpsc::Receiver<FanoutEvent>), BusError> {
        let (redis, rx) = RedisFanout::open(url, namespace, HUB_QUEUE)?;
        Ok((
            Fanout {
                inner: Inner::Redis(redis),
            },
            rx,
        ))
    }

    /// Starts receiving `user`'s deliveries on this node. Subscribing a user
    /// twice is harmless. On `Unavailable` the user stays wanted: the
    /// subscription is made as soon as Redis answers, followed by a `Resync`.
    pub async fn subscribe(&self, user: Uuid) -> Result<(), BusError> {
        match &self.inner {
            Inner::Local(_) => {
                let _ = user;
                Ok(())
            }
            Inner::Redis(redis) => redis.subscribe(user).await,
        }
    }

    /// Stops receiving `user`'s deliveries on this node.
    pub async fn unsubscribe(&self, user: Uuid) -> Result<(), BusError> {
        match &self.inner {
            Inner::Local(_) => {
                let _ = user;
                Ok(())
            }
            Inner::Redis(redis) => redis.unsubscribe(user).await,
        }
    }

    /// Publishes to each user's channel, in order per user.
    pub async fn publish(&self, items: Vec<(Uuid, Bytes)>) -> Result<(), BusError> {
        match &self.inner {
            Inner::Local(local) => {
                local.deliver(items);
                Ok(())
            }
            Inner::Redis(redis) => redis.publish(items).await,
        }
    }
}

#[derive(Clone, Debug)]
struct LocalFanout {
    tx: mpsc::Sender<FanoutEvent>,
}

impl LocalFanout {
    /// The hub sees every local publish (it only dispatches to users with
    /// local sessions). Never blocks the publisher: on overflow the hub is
    /// told to resync.
    fn deliver(&self, items: Vec<(Uuid, Bytes)>) {
        for (user, bytes) in items {
            if self
                .tx
                .try_send(FanoutEvent::Delivery { user, bytes })
                .is_err()
            {
                metrics::counter!("passerelle_fanout_dropped_total").increment(1);
                let _ = self.tx.try_send(FanoutEvent::Resync);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_fanout_delivers_in_order() {
        let (fanout, mut rx) = Fanout::local();
        let user = Uuid::new_v4();
        fanout.subscribe(user).await.expect("subscribe");
        fanout
            .publish(vec![
                (user, Bytes::from_static(b"1")),
                (user, Bytes::from_static(b"2")),
            ])
            .await
            .expect("publish");
        for want in [b"1", b"2"] {
            assert_eq!(
                rx.recv().await,
                Some(FanoutEvent::Delivery {
                    user,
                    bytes: Bytes::from_static(want)
                })
            );
        }
    }
}
