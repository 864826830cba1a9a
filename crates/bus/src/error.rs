//! The one error type of the bus crate.

/// Something went wrong talking to the shared coordination backend.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Redis could not be reached or answered with an error. The text is for
    /// logs; callers degrade (e.g. fall back to per-node limits) or report
    /// "not ready".
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    /// The Redis URL could not be parsed.
    #[error("invalid redis url: {0}")]
    Config(String),
}

impl From<redis::RedisError> for BusError {
    fn from(e: redis::RedisError) -> Self {
        Self::Unavailable(e.to_string())
    }
}
