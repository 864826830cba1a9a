//! Bodies of the health endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Liveness: the process answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// Readiness: every dependency answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    /// `ok` or `unavailable`.
    pub database: String,
    /// `ok`, `unavailable`, or `not_configured` (embedded mode).
    pub redis: String,
}
