//! `GET /v1/ws`: the handshake. The access token travels as a
//! `Sec-WebSocket-Protocol` entry `bearer.<token>` beside `passerelle.v1`
//! (the only header a browser page can set), or, for native clients, in
//! `Authorization: Bearer`. It is checked before the upgrade; the answer
//! echoes `passerelle.v1` only, never the token. Query strings and cookies
//! are never read.

use actix_web::http::header::SEC_WEBSOCKET_PROTOCOL;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::ErrorBody;
use passerelle_api_types::ws::{SUBPROTOCOL, TOKEN_PREFIX};

use super::session;
use crate::authn::{authenticate, bearer_token};
use crate::error::ApiError;
use crate::state::AppState;

/// Every entry of every `Sec-WebSocket-Protocol` header.
fn offered_protocols(req: &HttpRequest) -> Vec<&str> {
    req.headers()
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Open a real-time session (WebSocket, subprotocol `passerelle.v1`).
///
/// Offer `Sec-WebSocket-Protocol: passerelle.v1, bearer.<accessToken>` (or
/// send `Authorization: Bearer <accessToken>` with `passerelle.v1`). The
/// frames are described in the AsyncAPI document `openapi/asyncapi.yaml`.
#[utoipa::path(
    get, path = "/v1/ws", tag = "realtime",
    params(("Sec-WebSocket-Protocol" = String, Header, description = "`passerelle.v1, bearer.<accessToken>`")),
    responses(
        (status = 101, description = "Switching protocols; `Sec-WebSocket-Protocol: passerelle.v1`"),
        (status = 400, description = "`passerelle.v1` not offered (`subprotocol_required`) or not a WebSocket handshake (`websocket_required`)", body = ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token (`unauthorized`)", body = ErrorBody),
    )
)]
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offered = offered_protocols(&req);
    if !offered.contains(&SUBPROTOCOL) {
        return Err(ApiError::SubprotocolRequired);
    }
    let token = match offered.iter().find_map(|p| p.strip_prefix(TOKEN_PREFIX)) {
        Some(token) => token.to_owned(),
        None => bearer_token(req.headers())?.to_owned(),
    };
    let caller = authenticate(&state, &token).await?;
    let (response, socket, stream) = actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])
        .map_err(|e| ApiError::WebsocketRequired(format!("not a WebSocket handshake: {e}")))?;
    let state = state.into_inner();
    actix_web::rt::spawn(session::run(state, caller, socket, stream));
    Ok(response)
}
