//! The HTTP routes, one operation per file: `PUT`, `GET`/`HEAD` and
//! `DELETE` on `/v1/blobs/{id}`, and `GET /healthz`.

mod delete;
mod get;
mod health;
mod put;

use actix_web::web;

use crate::error::method_not_allowed;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .service(
            web::resource("/v1/blobs/{id}")
                .route(web::put().to(put::put))
                .route(web::get().to(get::get))
                .route(web::head().to(get::get))
                .route(web::delete().to(delete::delete))
                .default_service(web::to(method_not_allowed)),
        );
}
