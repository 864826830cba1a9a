//! Passerelle's cross-node coordination: the state that must be shared by every
//! gateway node but need not be durable. It lives in Redis when `REDIS_URL` is
//! set and in this process otherwise (the embedded default), behind one API so
//! the gateway never branches on the deployment.
//!
//! It owns the per-user fan-out channels ([`Fanout`]), the shared rate
//! limits ([`RateLimiter`]) and the live-session registry
//! ([`SessionRegistry`]). Redis here is
//! disposable by design: losing it costs at most a reset window of a limiter,
//! never data, because Postgres is the record.

mod error;
mod fanout;
mod fanout_redis;
mod fanout_repair;
mod rate_limit;
mod redis_link;
mod sessions;
mod sessions_local;

pub use error::BusError;
pub use fanout::{Fanout, FanoutEvent, HUB_QUEUE};
pub use rate_limit::{Decision, RateLimiter};
pub use redis_link::RedisLink;
pub use sessions::{Admission, Caps, SessionRegistry};
