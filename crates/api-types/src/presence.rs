//! Presence bodies: what a user is shown as (`GET /v1/presence`,
//! `GET /v1/users/{username}/presence`, and the live `presence` frame),
//! and the presence settings of `/v1/me`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Who may see the account's presence (or its last-seen time). Users
/// either side of a block never see each other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PresenceVisibility {
    /// Any signed-in user (live changes reach those who have the account
    /// as a contact).
    Everyone,
    /// Users in the owner's contact list.
    #[default]
    Contacts,
    /// Nobody.
    Nobody,
}

/// A user's presence as the viewer may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PresenceStatus {
    /// Connected, with at least one session not away.
    Online,
    /// Connected, every session away.
    Away,
    /// Not connected (or invisible).
    Offline,
    /// The viewer may not see this user's presence (their settings, or a
    /// block either way): the same answer in every case.
    Hidden,
}

/// A user's presence as the caller sees it. Also the payload of the live
/// `presence` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPresence {
    pub user_id: Uuid,
    pub status: PresenceStatus,
    /// When the user was last connected: only with `offline`, and only
    /// when their `lastSeenVisibility` lets the caller see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Increases with every change announced about this user: keep the
    /// answer with the highest version (frames from several nodes can
    /// arrive out of order).
    pub version: i64,
}

/// A page of the presence of the caller's contacts, in the order they were
/// added.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PresenceList {
    pub presence: Vec<UserPresence>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
