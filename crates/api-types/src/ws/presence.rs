//! Payload of the client's `presence` frame: this session is away (the app
//! went to the background, the user is idle) or active again. The live
//! `presence` event the server sends is [`crate::UserPresence`], the body
//! the REST endpoints answer with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a session says about its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionPresence {
    /// Active (every session starts so).
    Online,
    /// Away: the user counts as away only when all their sessions are.
    Away,
}

/// `presence`: set this session active or away. Fire-and-forget: nothing
/// answers it unless it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetPresence {
    pub status: SessionPresence,
}
