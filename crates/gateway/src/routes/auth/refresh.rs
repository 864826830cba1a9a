//! `POST /v1/auth/refresh`: rotate a refresh token.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, RefreshRequest, TokenResponse};
use passerelle_auth::refresh;
use passerelle_store::devices;
use passerelle_store::refresh_tokens::{self, Consumed};

use super::session::{NewRefresh, token_response};
use crate::device_list::{self, Change};
use crate::error::ApiError;
use crate::routing::events::revoke_sessions;
use crate::state::AppState;

/// Exchange a refresh token for a new pair.
///
/// Refresh tokens are single-use. Presenting one that was already used (a
/// sign it was stolen) revokes its device: every token of that device stops
/// working, and the device must log in again.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair for the same device", body = TokenResponse),
        (status = 401, description = "Unknown, expired, used or revoked refresh token (`invalid_refresh_token`)", body = ErrorBody),
    )
)]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = refresh::digest(body.refresh_token.trim());
    let now = passerelle_store::now();
    let next = NewRefresh::generate(&state, now);
    let (digest, expires_at) = (next.digest, next.expires_at);
    let outcome = state
        .store
        .transaction(move |conn| {
            let outcome = refresh_tokens::consume(conn, &presented, now)?;
            let mut announced = Vec::new();
            match &outcome {
                Consumed::Rotated { user_id, device_id } => {
                    NewRefresh::store_digest(conn, &digest, expires_at, *user_id, *device_id, now)?;
                    devices::touch(conn, *device_id, now)?;
                }
                Consumed::Replayed { user_id, device_id } => {
                    if devices::revoke(conn, *user_id, *device_id, now)? {
                        announced = device_list::announce(
                            conn,
                            *user_id,
                            &[Change::revoked(*device_id)],
                            now,
                        )?;
                    }
                }
                Consumed::Expired | Consumed::Unknown => {}
            }
            Ok((outcome, announced))
        })
        .await?;
    let (outcome, announced) = outcome;
    device_list::publish(&state, &announced).await;
    match outcome {
        Consumed::Rotated { user_id, device_id } => {
            Ok(HttpResponse::Ok().json(token_response(&state, user_id, device_id, &next, None)?))
        }
        Consumed::Replayed { user_id, device_id } => {
            revoke_sessions(
                &state.fanout,
                user_id,
                &[device_id.0],
                "refresh token replayed",
            )
            .await;
            tracing::warn!(user_id = %user_id, device_id = %device_id, "refresh token replayed; device revoked");
            metrics::counter!("passerelle_refresh_replays_total").increment(1);
            Err(ApiError::InvalidRefreshToken)
        }
        Consumed::Expired | Consumed::Unknown => Err(ApiError::InvalidRefreshToken),
    }
}
