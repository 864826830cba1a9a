//! Throttles for credential checks: per username, per account and per client
//! address, through the shared [`passerelle_bus::RateLimiter`] (consistent
//! across nodes when Redis is configured).

use std::time::Duration;

use actix_web::HttpRequest;
use passerelle_bus::Decision;

use crate::error::ApiError;
use crate::state::AppState;

/// The client's address: the TCP peer, or the first `X-Forwarded-For` entry
/// when the operator says a trusted proxy sets it.
pub fn client_address(state: &AppState, req: &HttpRequest) -> String {
    if state.settings.server.trust_forwarded_for
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 64)
    {
        return first.to_owned();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Counts one attempt under `key`; `429` when over `limit` per `window_secs`.
pub async fn check(
    state: &AppState,
    key: &str,
    limit: u32,
    window_secs: u64,
) -> Result<(), ApiError> {
    match state
        .limiter
        .hit(key, limit, Duration::from_secs(window_secs))
        .await
    {
        Decision::Allowed => Ok(()),
        Decision::Limited { retry_after } => {
            metrics::counter!("passerelle_throttled_total", "kind" => key.split(':').next().unwrap_or("other").to_owned())
                .increment(1);
            Err(ApiError::RateLimited { retry_after })
        }
    }
}
