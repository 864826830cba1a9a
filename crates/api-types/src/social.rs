//! Bodies of the social endpoints: contacts (`/v1/contacts`), blocks
//! (`/v1/blocks`), public profiles (`/v1/users/{username}`), the privacy
//! settings they share with `/v1/me`, and the paging query of every list.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Who may start a direct conversation with the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessagePolicy {
    /// Anyone the account has not blocked.
    #[default]
    Everyone,
    /// Only users in the account's contact list.
    Contacts,
}

/// Who may see the account's profile (lookup by username, display name and
/// avatar in other users' lists). The owner always sees their own; users the
/// owner blocked never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileVisibility {
    /// Anyone, signed in or not.
    #[default]
    Everyone,
    /// Users in the owner's contact list.
    Contacts,
    /// The owner only.
    Nobody,
}

/// A profile as others see it: `GET /v1/users/{username}`, the "profile
/// link".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicProfile {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    /// Blob-store reference of the avatar image.
    pub avatar_blob_id: Option<String>,
}

/// One entry of the caller's contact list. `displayName` and
/// `avatarBlobId` are `null` when the contact's profile is not visible to
/// the caller (their `profileVisibility`, or a block).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_blob_id: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// A page of the caller's contacts, in the order they were added.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactList {
    pub contacts: Vec<Contact>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Add a contact by exactly one of `username` and `userId`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddContactRequest {
    /// Exact username (case-insensitive). Finds only users whose profile is
    /// visible to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A user id the caller already knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
}

/// One user the caller blocks. Profile fields follow the same visibility
/// rule as in [`Contact`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockedUser {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_blob_id: Option<String>,
    pub blocked_at: DateTime<Utc>,
}

/// A page of the users the caller blocks, oldest block first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockList {
    pub blocks: Vec<BlockedUser>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of a list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Entries per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page; opaque.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 100;
}
