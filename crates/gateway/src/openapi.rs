//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! annotations and the API types' schemas. Served at `/openapi.json` (with a
//! Swagger UI at `/docs`, its assets built into the binary) and committed as
//! `openapi/openapi.json`, which a test keeps equal to this.
//!
//! Responses every operation can give are added here once, not repeated on
//! each handler: 400/413/415 on operations with a JSON body, 401 on those that
//! need a token, 500/503 on all of them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle",
        description = "A blind router for end-to-end encrypted messaging: accounts, devices, contacts and message metadata. The gateway never sees message content or keys.",
        license(name = "AGPL-3.0-only", identifier = "AGPL-3.0-only"),
    ),
    paths(
        routes::auth::register::register,
        routes::auth::login::login,
        routes::auth::refresh::refresh,
        routes::auth::logout::logout,
        routes::devices::list::list,
        routes::devices::rename::rename,
        routes::devices::revoke::revoke,
        routes::devices::reregister::reregister,
        routes::devices::directory::directory,
        routes::me::show::show,
        routes::me::update::update,
        routes::me::password::change,
        routes::me::delete::delete,
        routes::history::list::list,
        routes::history::retract::retract,
        routes::history::read::read,
        routes::history::receipts::receipts,
        routes::contacts::list::list,
        routes::contacts::add::add,
        routes::contacts::remove::remove,
        routes::blocks::list::list,
        routes::blocks::block::block,
        routes::blocks::unblock::unblock,
        routes::users::show::show,
        routes::presence::list::list,
        routes::presence::show::show,
        routes::blobs::upload::upload,
        routes::blobs::download::download,
        routes::conversations::create::create,
        routes::conversations::list::list,
        routes::conversations::show::show,
        routes::conversations::update::update,
        routes::members::list::list,
        routes::members::add::add,
        routes::members::remove::remove,
        routes::members::set_role::set_role,
        routes::members::transfer_owner::transfer,
        routes::conversations::join::join,
        routes::conversations::link_create::create_link,
        routes::conversations::link_revoke::revoke_link,
        routes::conversations::join_by_link::join_by_link,
        routes::invites::list::list,
        routes::invites::accept::accept,
        routes::invites::decline::decline,
        routes::message_requests::list::list,
        routes::message_requests::accept::accept,
        routes::message_requests::decline::decline,
        routes::game_invites::show::show,
        routes::game_invites::accept::accept,
        routes::game_invites::decline::decline,
        routes::game_invites::cancel::cancel,
        routes::groups::show::show,
        routes::rooms::create::create,
        routes::jwks::jwks,
        routes::health::healthz,
        routes::health::readyz,
        routes::metrics::render,
        crate::ws::upgrade::upgrade,
    ),
    components(schemas(passerelle_api_types::ErrorCode)),
    modifiers(&CommonResponses),
    tags(
        (name = "auth", description = "Registration, login, token rotation"),
        (name = "devices", description = "The caller's devices"),
        (name = "account", description = "The caller's account, profile and privacy settings"),
        (name = "social", description = "Contacts, blocks and public profiles"),
        (name = "blobs", description = "Capabilities to upload and download encrypted blobs in the blob store (the bytes never pass through the gateway)"),
        (name = "presence", description = "Who is online, away or offline, as the caller may see it (live changes: the `presence` frame)"),
        (name = "conversations", description = "Direct conversations, groups, members, invitations, join links, message requests, game invitations and message history"),
        (name = "rooms", description = "Link rooms: created here, entered and left over the WebSocket, gone after their last participant leaves"),
        (name = "realtime", description = "The WebSocket session (frames: openapi/asyncapi.yaml)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The document as served and committed (pretty JSON, trailing newline).
pub fn document() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

struct CommonResponses;

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| error_response(description));
}

impl Modify for CommonResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for item in api.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
                &mut item.put,
            ]
            .into_iter()
            .flatten()
            {
                if op.request_body.is_some() {
                    add(
                        op,
                        "400",
                        "Malformed JSON, wrong type, missing or unknown field (`invalid_json`)",
                    );
                    add(op, "413", "Body too large (`payload_too_large`)");
                    add(
                        op,
                        "415",
                        "Body is not `application/json` (`unsupported_media_type`)",
                    );
                }
                if op.security.is_some() {
                    add(
                        op,
                        "401",
                        "Missing, invalid, expired or revoked access token (`unauthorized`)",
                    );
                }
                add(op, "500", "Internal error (`internal`)");
                add(op, "503", "A dependency is unavailable (`unavailable`)");
            }
        }
    }
}
