//! `POST /v1/auth/register`: create an account and its first device.

use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_api_types::{CredentialsRequest, ErrorBody, TokenResponse};
use passerelle_domain::{DeviceId, Password, UserId, Username};
use passerelle_store::users::{self, NewUser};

use super::session::{DeviceLabel, NewRefresh, new_device, token_response};
use super::throttle;
use crate::device_list;
use crate::error::ApiError;
use crate::state::AppState;

/// Create an account and its first device.
///
/// Usernames are unique case-insensitively (stored lower-cased). Throttled per
/// client address.
#[utoipa::path(
    post, path = "/v1/auth/register", tag = "auth",
    request_body = CredentialsRequest,
    responses(
        (status = 201, description = "Account created; tokens for its first device", body = TokenResponse),
        (status = 409, description = "Username taken (`username_taken`)", body = ErrorBody),
        (status = 422, description = "A value breaks a rule (`validation_failed`)", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address (`rate_limited`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = Username::parse(&body.username)?;
    let password = Password::new_secret(body.password)?;
    let label = DeviceLabel::parse(
        body.device_name.as_deref(),
        body.platform.as_deref(),
        body.registration_id,
    )?;
    let limits = &state.settings.limits;
    let address = throttle::client_address(&state, &req);
    throttle::check(
        &state,
        &format!("register:addr:{address}"),
        limits.register_per_address,
        limits.register_window_secs,
    )
    .await?;

    let hash = state.hasher.hash(&password).await?;
    let (user_id, device_id, now) = (UserId::new(), DeviceId::new(), passerelle_store::now());
    let refresh = NewRefresh::generate(&state, now);
    let digest = refresh.digest;
    let expires_at = refresh.expires_at;
    let (registration, announced) = state
        .store
        .transaction(move |conn| {
            users::insert(
                conn,
                &NewUser {
                    id: user_id,
                    username: username.as_str(),
                    display_name: None,
                    password_hash: Some(&hash),
                    external_issuer: None,
                    external_subject: None,
                    now,
                },
            )?;
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
    tracing::info!(user_id = %user_id, device_id = %device_id, "account registered");
    let body = token_response(&state, user_id, device_id, &refresh, Some(registration))?;
    Ok(HttpResponse::Created().json(body))
}
