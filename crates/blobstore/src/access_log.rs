//! One log line per request: method, path (it names only the blob id),
//! status and duration. Headers are never logged, so capabilities never
//! reach the logs; bodies are never looked at.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    metrics::counter!("blobstore_requests_total", "method" => method.to_string(), "status" => status.to_string())
        .increment(1);
    tracing::info!(
        method = %method,
        path = %path,
        status,
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(res)
}
