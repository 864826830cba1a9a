//! Who is calling: the [`Caller`] extractor (and [`MaybeCaller`] for the
//! few routes open to anonymous callers) and [`authenticate`], shared by
//! REST handlers and the WebSocket handshake.
//!
//! A token is accepted when it was issued by this gateway (signature, expiry,
//! audience, and its device still active in the database, so a revoked
//! device's unexpired tokens are refused at once) or by a configured external
//! identity provider (then the account and device are provisioned on first
//! sight, see [`crate::provision`]). Tokens are read from
//! `Authorization: Bearer` only; never from the query string or a cookie.

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use passerelle_auth::access::peek_issuer;
use passerelle_domain::{DeviceId, UserId};
use passerelle_store::devices;

use crate::error::ApiError;
use crate::provision;
use crate::state::AppState;

/// The authenticated device making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub device_id: DeviceId,
    /// When the token used expires (Unix seconds).
    pub expires_at: i64,
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("missing bearer token"))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthorized("malformed authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized("malformed authorization header"));
    }
    Ok(token.trim())
}

/// Checks a bearer token and returns the device it speaks for.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let issuer = peek_issuer(token).ok_or(ApiError::Unauthorized("malformed token"))?;
    if issuer == state.tokens.issuer() {
        let claims = state.tokens.verify(token)?;
        let caller = Caller {
            user_id: UserId(claims.sub),
            device_id: DeviceId(claims.did),
            expires_at: claims.exp,
        };
        let active = state
            .store
            .run(move |conn| devices::find_active(conn, caller.user_id, caller.device_id))
            .await?;
        return match active {
            Some(_) => Ok(caller),
            None => Err(ApiError::Unauthorized("device revoked")),
        };
    }
    if state.external.knows_issuer(&issuer) {
        let identity = state.external.verify(token).await?;
        return provision::external_caller(state, identity).await;
    }
    Err(ApiError::Unauthorized("untrusted issuer"))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req.headers()).map(str::to_owned);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            authenticate(&state, &token?).await
        })
    }
}

/// The caller of a route where a token is optional (public profiles). No
/// `Authorization` header: anonymous. A header that is present must hold a
/// valid token (401 otherwise): a client whose token has expired is told so
/// rather than silently served the anonymous view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().contains_key(AUTHORIZATION) {
            let caller = Caller::from_request(req, payload);
            Box::pin(async move { caller.await.map(|c| MaybeCaller(Some(c))) })
        } else {
            Box::pin(async { Ok(MaybeCaller(None)) })
        }
    }
}
