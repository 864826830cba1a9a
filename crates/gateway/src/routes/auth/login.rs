//! `POST /v1/auth/login`: check a password and create a new device.

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::{CredentialsRequest, ErrorBody, TokenResponse};
use passerelle_domain::{DeviceId, Password, Username};
use passerelle_store::users;

use super::session::{DeviceLabel, NewRefresh, new_device, token_response};
use super::throttle;
use crate::device_list;
use crate::error::ApiError;
use crate::state::AppState;

/// Log in: every successful login creates a new device.
///
/// An unknown username and a wrong password take the same time and give the
/// same error. Throttled per username and per client address.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = CredentialsRequest,
    responses(
        (status = 200, description = "Tokens for the new device", body = TokenResponse),
        (status = 401, description = "Wrong username or password (`invalid_credentials`)", body = ErrorBody),
        (status = 422, description = "A value breaks a rule (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many attempts for this username or address (`rate_limited`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let password = Password::offered(body.password)?;
    let label = DeviceLabel::parse(
        body.device_name.as_deref(),
        body.platform.as_deref(),
        body.registration_id,
    )?;
    // A malformed username cannot exist; it is checked like an unknown one.
    let username = Username::parse(&body.username).ok();
    let canonical = body.username.to_ascii_lowercase();
    let limits = &state.settings.limits;
    let address = throttle::client_address(&state, &req);
    throttle::check(
        &state,
        &format!("login:addr:{address}"),
        limits.login_per_address,
        limits.login_window_secs,
    )
    .await?;
    throttle::check(
        &state,
        &format!("login:user:{canonical}"),
        limits.login_per_username,
        limits.login_window_secs,
    )
    .await?;

    let user = match username {
        Some(name) => {
            state
                .store
                .run(move |conn| users::find_by_username(conn, name.as_str()))
                .await?
        }
        None => None,
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let valid = state.hasher.verify(&password, stored_hash).await?;
    let user = match user {
        Some(user) if valid => user,
        _ => return Err(ApiError::InvalidCredentials),
    };

    let (user_id, device_id, now) = (user.id, DeviceId::new(), passerelle_store::now());
    let refresh = NewRefresh::generate(&state, now);
    let (digest, expires_at) = (refresh.digest, refresh.expires_at);
    let (registration, announced) = state
        .store
        .transaction(move |conn| {
            new_device(
                conn,
                &label,
                (user_id, device_id),
                (digest, expires_at),
                now,
            )
        })
        .await?;
    device_list::publish(&state, &announced).await;
    tracing::info!(user_id = %user_id, device_id = %device_id, "logged in");
    let body = token_response(&state, user_id, device_id, &refresh, Some(registration))?;
    Ok(HttpResponse::Ok().json(body))
}
