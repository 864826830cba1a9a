//! Re-checking the account password before a sensitive change (password
//! change, account deletion), throttled per account so that a stolen access
//! token cannot be used to guess the password.

use passerelle_domain::Password;
use passerelle_store::users;

use crate::authn::Caller;
use crate::error::ApiError;
use crate::routes::auth::throttle;
use crate::state::AppState;

/// Ok when the account has no password and none is required, or when
/// `offered` matches it.
pub async fn confirm_password(
    state: &AppState,
    caller: Caller,
    offered: Option<Password>,
) -> Result<bool, ApiError> {
    let limits = &state.settings.limits;
    let user = state
        .store
        .run(move |conn| users::find(conn, caller.user_id))
        .await?
        .ok_or(ApiError::Unauthorized("account deleted"))?;
    let Some(stored) = user.password_hash else {
        return Ok(false);
    };
    let offered = offered.ok_or(ApiError::WrongPassword)?;
    throttle::check(
        state,
        &format!("password:user:{}", caller.user_id),
        limits.password_checks_per_user,
        limits.login_window_secs,
    )
    .await?;
    if state.hasher.verify(&offered, Some(&stored)).await? {
        Ok(true)
    } else {
        Err(ApiError::WrongPassword)
    }
}
