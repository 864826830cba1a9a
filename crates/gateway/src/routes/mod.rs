//! HTTP routes, one file per operation, grouped by resource. [`configure`]
//! registers them all; each path is a `web::resource` so that a known path
//! with an unsupported method answers 405 (not 404), and each handler carries
//! its `#[utoipa::path]` so the OpenAPI document is generated from the code.

use actix_web::web;

use crate::error::method_not_allowed;

pub mod auth;
pub mod blobs;
pub mod blocks;
pub mod contacts;
pub mod conversations;
pub mod devices;
pub mod game_invites;
pub mod groups;
pub mod health;
pub mod history;
pub mod invites;
pub mod jwks;
pub mod me;
pub mod members;
pub mod message_requests;
pub mod metrics;
pub mod pagination;
pub mod presence;
pub mod rooms;
pub mod users;

/// A resource whose unsupported methods get a JSON 405.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/metrics").route(web::get().to(metrics::render)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(jwks::jwks)))
        .service(resource("/v1/auth/register").route(web::post().to(auth::register::register)))
        .service(resource("/v1/auth/login").route(web::post().to(auth::login::login)))
        .service(resource("/v1/auth/refresh").route(web::post().to(auth::refresh::refresh)))
        .service(resource("/v1/auth/logout").route(web::post().to(auth::logout::logout)))
        .service(resource("/v1/devices").route(web::get().to(devices::list::list)))
        .service(
            resource("/v1/devices/current/registration")
                .route(web::put().to(devices::reregister::reregister)),
        )
        .service(
            resource("/v1/devices/{device_id}")
                .route(web::patch().to(devices::rename::rename))
                .route(web::delete().to(devices::revoke::revoke)),
        )
        .service(
            resource("/v1/me")
                .route(web::get().to(me::show::show))
                .route(web::patch().to(me::update::update))
                .route(web::delete().to(me::delete::delete)),
        )
        .service(resource("/v1/me/password").route(web::post().to(me::password::change)))
        .service(
            resource("/v1/contacts")
                .route(web::get().to(contacts::list::list))
                .route(web::post().to(contacts::add::add)),
        )
        .service(
            resource("/v1/contacts/{user_id}").route(web::delete().to(contacts::remove::remove)),
        )
        .service(resource("/v1/blocks").route(web::get().to(blocks::list::list)))
        .service(
            resource("/v1/blocks/{user_id}")
                .route(web::put().to(blocks::block::block))
                .route(web::delete().to(blocks::unblock::unblock)),
        )
        .service(resource("/v1/users/{username}").route(web::get().to(users::show::show)))
        .service(
            resource("/v1/users/{username}/presence").route(web::get().to(presence::show::show)),
        )
        .service(resource("/v1/presence").route(web::get().to(presence::list::list)))
        .service(
            resource("/v1/users/{user_id}/devices")
                .route(web::get().to(devices::directory::directory)),
        )
        .service(resource("/v1/blobs").route(web::post().to(blobs::upload::upload)))
        .service(
            resource("/v1/blobs/{blob_id}/download")
                .route(web::post().to(blobs::download::download)),
        )
        .service(
            resource("/v1/conversations")
                .route(web::get().to(conversations::list::list))
                .route(web::post().to(conversations::create::create)),
        )
        .service(
            resource("/v1/conversations/{id}")
                .route(web::get().to(conversations::show::show))
                .route(web::patch().to(conversations::update::update)),
        )
        .service(
            resource("/v1/conversations/{id}/members")
                .route(web::get().to(members::list::list))
                .route(web::post().to(members::add::add)),
        )
        .service(
            resource("/v1/conversations/{id}/members/{user_id}")
                .route(web::delete().to(members::remove::remove)),
        )
        .service(
            resource("/v1/conversations/{id}/members/{user_id}/role")
                .route(web::put().to(members::set_role::set_role)),
        )
        .service(
            resource("/v1/conversations/{id}/owner")
                .route(web::post().to(members::transfer_owner::transfer)),
        )
        .service(
            resource("/v1/conversations/{id}/join")
                .route(web::post().to(conversations::join::join)),
        )
        .service(
            resource("/v1/conversations/{id}/join-link")
                .route(web::post().to(conversations::link_create::create_link))
                .route(web::delete().to(conversations::link_revoke::revoke_link)),
        )
        .service(
            resource("/v1/join/{token}")
                .route(web::post().to(conversations::join_by_link::join_by_link)),
        )
        .service(resource("/v1/invites").route(web::get().to(invites::list::list)))
        .service(
            resource("/v1/invites/{conversation_id}/accept")
                .route(web::post().to(invites::accept::accept)),
        )
        .service(
            resource("/v1/invites/{conversation_id}/decline")
                .route(web::post().to(invites::decline::decline)),
        )
        .service(
            resource("/v1/message-requests").route(web::get().to(message_requests::list::list)),
        )
        .service(
            resource("/v1/message-requests/{conversation_id}/accept")
                .route(web::post().to(message_requests::accept::accept)),
        )
        .service(
            resource("/v1/message-requests/{conversation_id}/decline")
                .route(web::post().to(message_requests::decline::decline)),
        )
        .service(
            resource("/v1/game-invites/{message_id}")
                .route(web::get().to(game_invites::show::show)),
        )
        .service(
            resource("/v1/game-invites/{message_id}/accept")
                .route(web::post().to(game_invites::accept::accept)),
        )
        .service(
            resource("/v1/game-invites/{message_id}/decline")
                .route(web::post().to(game_invites::decline::decline)),
        )
        .service(
            resource("/v1/game-invites/{message_id}/cancel")
                .route(web::post().to(game_invites::cancel::cancel)),
        )
        .service(resource("/v1/groups/{name}").route(web::get().to(groups::show::show)))
        .service(resource("/v1/rooms").route(web::post().to(rooms::create::create)))
        .service(
            resource("/v1/conversations/{conversation_id}/messages")
                .route(web::get().to(history::list::list)),
        )
        .service(
            resource("/v1/conversations/{conversation_id}/messages/{message_id}")
                .route(web::delete().to(history::retract::retract)),
        )
        .service(
            resource("/v1/conversations/{conversation_id}/messages/{message_id}/receipts")
                .route(web::get().to(history::receipts::receipts)),
        )
        .service(
            resource("/v1/conversations/{conversation_id}/read")
                .route(web::put().to(history::read::read)),
        )
        .service(resource("/v1/ws").route(web::get().to(crate::ws::upgrade::upgrade)));
}
