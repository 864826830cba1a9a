//! `PATCH /v1/me`: change the display name, the avatar and the privacy
//! settings.

use actix_web::{HttpResponse, web};
use passerelle_api_types::{ErrorBody, Me, MessagePolicy, ProfileVisibility, UpdateMeRequest};
use passerelle_domain::{self as domain, AvatarBlobId, DisplayName};
use passerelle_store::presence;
use passerelle_store::social::{self, ProfileChange};

use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Change any of `displayName`, `avatarBlobId` (`null` clears either),
/// `messagePolicy`, `profileVisibility`, `readReceipts`,
/// `presenceVisibility`, `lastSeenVisibility` and `invisible`; fields left
/// out stay as they are. All values are checked before anything is
/// written. A presence setting change is announced at once to the
/// caller's online watchers (each told what it may now see).
#[utoipa::path(
    patch, path = "/v1/me", tag = "account",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account", body = Me),
        (status = 422, description = "Invalid display name or avatar reference (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let change = ProfileChange {
        display_name: body
            .display_name
            .map(|v| {
                v.as_deref()
                    .map(DisplayName::parse)
                    .transpose()
                    .map(|n| n.map(DisplayName::into_string))
            })
            .transpose()?,
        avatar_blob_id: body
            .avatar_blob_id
            .map(|v| {
                v.as_deref()
                    .map(AvatarBlobId::parse)
                    .transpose()
                    .map(|a| a.map(AvatarBlobId::into_string))
            })
            .transpose()?,
        message_policy: body.message_policy.map(|p| match p {
            MessagePolicy::Everyone => domain::MessagePolicy::Everyone,
            MessagePolicy::Contacts => domain::MessagePolicy::Contacts,
        }),
        profile_visibility: body.profile_visibility.map(|v| match v {
            ProfileVisibility::Everyone => domain::ProfileVisibility::Everyone,
            ProfileVisibility::Contacts => domain::ProfileVisibility::Contacts,
            ProfileVisibility::Nobody => domain::ProfileVisibility::Nobody,
        }),
        read_receipts: body.read_receipts,
        presence_visibility: body.presence_visibility.map(super::visibility_from_api),
        last_seen_visibility: body.last_seen_visibility.map(super::visibility_from_api),
        invisible: body.invisible,
        share_device_names: body.share_device_names,
    };
    let presence_changed = change.changes_presence();
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (before, row) = state
        .store
        .transaction(move |conn| {
            let before = presence::settings(conn, me)?;
            Ok((before, social::update_profile(conn, me, &change, now)?))
        })
        .await?;
    let row = row.ok_or(ApiError::Unauthorized("account deleted"))?;
    if let Some(before) = before.filter(|_| presence_changed) {
        // Who may see what changed: online watchers whose view changed are
        // told what they now see (invisibility changes the status itself).
        state.presence.settings_changed(me, before).await;
    }
    Ok(HttpResponse::Ok().json(super::to_api(row)))
}
