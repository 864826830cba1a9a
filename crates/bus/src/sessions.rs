//! The cross-node registry of live WebSocket sessions, for per-device and
//! per-user connection caps. (Presence does not use it: it needs the
//! sessions in the same database as the contacts it is joined with; see
//! `passerelle_store::presence`.)
//!
//! Every entry expires unless refreshed (the gateway refreshes on each
//! heartbeat), so the sessions of a node that dies without unregistering
//! stop counting after their TTL. In Redis a user is one sorted set
//! (`<namespace>:sess:<user>`), member `<device>:<connection>`, score = expiry
//! in ms of the Redis server clock (node clocks never matter); each operation
//! is one Lua script, so concurrent nodes admit exactly up to the caps. The
//! embedded default keeps the same entries in this process.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::sessions_local::LocalSessions;
use crate::{BusError, RedisLink};

/// The verdict of [`SessionRegistry::register`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    TooManyForDevice,
    TooManyForUser,
}

/// Connection caps; 0 means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub per_device: u32,
    pub per_user: u32,
}

/// Live sessions, shared by every node or local to this one. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SessionRegistry {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Local(Arc<Mutex<LocalSessions>>),
    Redis(RedisLink),
}

/// Shared by the scripts: the server's clock in ms, and the key's expiry set
/// to that of its longest-lived entry.
const PRELUDE: &str = r"
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function expire_to_last()
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', key, math.max(1, tonumber(last[2]) - now)) end
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
";

/// ARGV: member, device prefix, ttl ms, per-device cap, per-user cap.
/// Returns 0 admitted, 1 too many for the device, 2 too many for the user.
const REGISTER: &str = r"
if not redis.call('ZSCORE', key, ARGV[1]) then
  local members = redis.call('ZRANGE', key, 0, -1)
  local per_device, per_user = tonumber(ARGV[4]), tonumber(ARGV[5])
  if per_device > 0 then
    local n = 0
    for _, m in ipairs(members) do
      if string.sub(m, 1, #ARGV[2]) == ARGV[2] then n = n + 1 end
    end
    if n >= per_device then return 1 end
  end
  if per_user > 0 and #members >= per_user then return 2 end
end
redis.call('ZADD', key, now + tonumber(ARGV[3]), ARGV[1])
expire_to_last()
return 0
";

/// ARGV: member, ttl ms.
const REFRESH: &str = r"
redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
expire_to_last()
return 0
";

/// ARGV: member.
const UNREGISTER: &str = r"
redis.call('ZREM', key, ARGV[1])
expire_to_last()
return 0
";

const LIST: &str = r"
return redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')
";

impl SessionRegistry {
    /// Sessions of this process only (the embedded single-node default).
    pub fn local() -> Self {
        Self {
            backend: Backend::Local(Arc::default()),
        }
    }

    /// Sessions in Redis, counted across every node using the same Redis.
    pub fn shared(link: RedisLink) -> Self {
        Self {
            backend: Backend::Redis(link),
        }
    }

    /// Registers `connection` of `device` of `user` for `ttl` unless a cap is
    /// reached (expired entries don't count). Registering a connection that
    /// is already live only extends it.
    pub async fn register(
        &self,
        user: Uuid,
        device: Uuid,
        connection: Uuid,
        ttl: Duration,
        caps: Caps,
    ) -> Result<Admission, BusError> {
        match &self.backend {
            Backend::Local(local) => {
                let now = Instant::now();
                Ok(lock(local).register(user, (device, connection), ttl, caps, now))
            }
            Backend::Redis(link) => {
                let verdict: i64 = script(REGISTER)
                    .key(session_key(link, user))
                    .arg(member(device, connection))
                    .arg(format!("{device}:"))
                    .arg(millis(ttl))
                    .arg(caps.per_device)
                    .arg(caps.per_user)
                    .invoke_async(&mut link.connection())
                    .await?;
                Ok(match verdict {
                    0 => Admission::Admitted,
                    1 => Admission::TooManyForDevice,
                    _ => Admission::TooManyForUser,
                })
            }
        }
    }

    /// Extends the entry's expiry (called on each heartbeat). An entry that
    /// already expired is put back without checking the caps: the session is
    /// evidently still alive.
    pub async fn refresh(
        &self,
        user: Uuid,
        device: Uuid,
        connection: Uuid,
        ttl: Duration,
    ) -> Result<(), BusError> {
        match &self.backend {
            Backend::Local(local) => {
                lock(local).refresh(user, (device, connection), ttl, Instant::now());
                Ok(())
            }
            Backend::Redis(link) => {
                let _: i64 = script(REFRESH)
                    .key(session_key(link, user))
                    .arg(member(device, connection))
                    .arg(millis(ttl))
                    .invoke_async(&mut link.connection())
                    .await?;
                Ok(())
            }
        }
    }

    /// Removes the entry (the session closed).
    pub async fn unregister(
        &self,
        user: Uuid,
        device: Uuid,
        connection: Uuid,
    ) -> Result<(), BusError> {
        match &self.backend {
            Backend::Local(local) => {
                lock(local).unregister(user, (device, connection));
                Ok(())
            }
            Backend::Redis(link) => {
                let _: i64 = script(UNREGISTER)
                    .key(session_key(link, user))
                    .arg(member(device, connection))
                    .invoke_async(&mut link.connection())
                    .await?;
                Ok(())
            }
        }
    }

    /// Live sessions of the user (expired excluded), as (device, connection)
    /// pairs.
    pub async fn list(&self, user: Uuid) -> Result<Vec<(Uuid, Uuid)>, BusError> {
        match &self.backend {
            Backend::Local(local) => Ok(lock(local).list(user, Instant::now())),
            Backend::Redis(link) => {
                let members: Vec<String> = script(LIST)
                    .key(session_key(link, user))
                    .invoke_async(&mut link.connection())
                    .await?;
                Ok(members.iter().filter_map(|m| parse_member(m)).collect())
            }
        }
    }
}

fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{PRELUDE}{body}"))
}

fn session_key(link: &RedisLink, user: Uuid) -> String {
    link.key(&format!("sess:{user}"))
}

fn member(device: Uuid, connection: Uuid) -> String {
    format!("{device}:{connection}")
}

fn parse_member(m: &str) -> Option<(Uuid, Uuid)> {
    let (device, connection) = m.split_once(':')?;
    Some((device.parse().ok()?, connection.parse().ok()?))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn lock(local: &Mutex<LocalSessions>) -> std::sync::MutexGuard<'_, LocalSessions> {
    // A poisoned registry only means a panic mid-update; entries stay valid.
    local.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
