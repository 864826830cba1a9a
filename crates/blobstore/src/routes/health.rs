//! `GET /healthz`: the process is up and serving (the backend is not
//! called: a slow object store must not take the node out of rotation).

use actix_web::HttpResponse;
use serde_json::json;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}
