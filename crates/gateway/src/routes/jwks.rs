//! `GET /.well-known/jwks.json`: the public keys that verify this gateway's
//! access tokens (and, later, its blob capabilities), so that the blob store
//! and integrators verify without a shared secret.

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// The JSON Web Key Set of the token-signing keys (the active one and those
/// kept during a rotation). Empty with HS256, whose secret is never published.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JWKS (RFC 7517)", body = Object,
        example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "q2Yb…", "alg": "EdDSA", "use": "sig"}]}))))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.jwks.as_ref())
}
