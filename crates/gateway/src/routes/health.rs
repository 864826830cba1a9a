//! `GET /healthz` (the process answers) and `GET /readyz` (its dependencies
//! answer: the database, and Redis when configured).

use actix_web::{HttpResponse, web};
use passerelle_api_types::{Health, Readiness};

use crate::state::AppState;

/// Liveness: 200 while the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: 200 when the database (and Redis, if configured) answer, else
/// 503. Load balancers should route only to ready nodes.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "A dependency is unavailable", body = Readiness),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.store.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            "unavailable"
        }
    };
    let redis = match &state.redis {
        None => "not_configured",
        Some(link) => match link.ping().await {
            Ok(()) => "ok",
            Err(e) => {
                tracing::warn!(error = %e, "readiness: redis unavailable");
                "unavailable"
            }
        },
    };
    let ready = database == "ok" && redis != "unavailable";
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" }.into(),
        database: database.into(),
        redis: redis.into(),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
