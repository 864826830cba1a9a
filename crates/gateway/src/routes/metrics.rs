//! `GET /metrics`: Prometheus text exposition of the process's metrics.

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

/// Prometheus metrics: `http_requests_total` and
/// `http_request_duration_seconds` by method, route and status, plus
/// Passerelle's own counters (`passerelle_*`).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}
