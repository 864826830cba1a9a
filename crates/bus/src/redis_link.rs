//! One multiplexed, self-reconnecting Redis connection per node.
//!
//! Every Redis command of a node goes through this link (a
//! `ConnectionManager` is a cheap clone over one socket), so a node holds one
//! command connection whatever its number of requests or sessions.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::BusError;

/// A node's command connection to Redis.
#[derive(Clone)]
pub struct RedisLink {
    conn: ConnectionManager,
    /// Prefix of every key and channel of this deployment.
    namespace: String,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisLink")
    }
}

impl RedisLink {
    /// Creates the link without connecting: the first command connects. A node
    /// therefore starts (and reports "not ready") while Redis is down, and
    /// recovers by itself when Redis comes back. Must be called inside a Tokio
    /// runtime.
    pub fn open(url: &str, namespace: &str) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(|e| BusError::Config(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            conn,
            namespace: namespace.to_owned(),
        })
    }

    /// `PING`, for readiness checks.
    pub async fn ping(&self) -> Result<(), BusError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    /// `<namespace>:<suffix>`
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.namespace)
    }

    pub(crate) fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }
}
