//! Passerelle's cross-node coordination: the state that must be shared by every
//! gateway node but need not be durable. It lives in Redis when `REDIS_URL` is
//! set and in this process otherwise (the embedded default), behind one API so
//! the gateway never branches on the deployment.
//!
//! Today it owns the shared rate limits (login and registration throttles);
//! per-user fan-out channels join it with the routing core. Redis here is
//! disposable by design: losing it costs at most a reset window of a limiter,
//! never data, because Postgres is the record.

mod error;
mod rate_limit;
mod redis_link;

pub use error::BusError;
pub use rate_limit::{Decision, RateLimiter};
pub use redis_link::RedisLink;
