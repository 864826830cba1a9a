//! Per-request middleware: a request id (taken from a well-formed
//! `X-Request-Id` or generated, and echoed back), a tracing span carrying it,
//! one access log line, and the Prometheus request metrics labelled by the
//! matched route pattern (never the raw path, so cardinality stays bounded
//! and no identifier or secret in a URL reaches a log or a metric); and
//! [`blind`], the gate that keeps bytes out of the gateway.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The gateway takes small JSON bodies only, on every route: a body with a
/// `Content-Length` over `limit` is refused with 413, a body without one
/// (chunked) with 413 too, and a non-empty body that is not
/// `application/json` with 415, all before any handler runs and before the
/// body is read. Bytes (ciphertext, files) go to the blob store, never here
/// (`blindness` tests).
fn gate(req: &ServiceRequest, limit: usize) -> Result<(), crate::error::ApiError> {
    use crate::error::ApiError;
    use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
    let headers = req.headers();
    if headers.contains_key(TRANSFER_ENCODING) {
        return Err(ApiError::PayloadTooLarge(format!(
            "bodies must have a Content-Length of at most {limit} bytes"
        )));
    }
    let length = match headers.get(CONTENT_LENGTH) {
        None => 0,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            // Unreadable: treated as too long (the HTTP layer refuses most
            // malformed lengths before this).
            .unwrap_or(u64::MAX),
    };
    if length > limit as u64 {
        return Err(ApiError::PayloadTooLarge(format!(
            "the body must be at most {limit} bytes"
        )));
    }
    if length > 0 {
        let json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be application/json".into(),
            ));
        }
    }
    Ok(())
}

/// The middleware around [`gate`], with the limit `server.max_body_bytes`.
pub async fn blind(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let limit = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(0, |s| s.settings.server.max_body_bytes);
    match gate(&req, limit) {
        Ok(()) => Ok(next.call(req).await?.map_into_boxed_body()),
        Err(e) => Ok(req.error_response(e)),
    }
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(status, elapsed_ms = elapsed.as_secs_f64() * 1e3, "request");
    });
    result.map(|mut res| {
        if let Ok(v) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        res
    })
}
