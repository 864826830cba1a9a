//! Passerelle's domain vocabulary: identifiers, validated values, the
//! privacy rules (who may see a profile, who may see presence) and the
//! conversation rules (which member may change what) that every other
//! crate shares. No IO lives here, so these types can be used by the store, the auth layer,
//! the gateway and the clients alike.
//!
//! A value of one of these types has already been checked: code that receives
//! a [`Username`] never re-validates it. Constructors return [`DomainError`],
//! whose messages are written for API clients (they name the rule broken and
//! never echo secrets).

mod conversation;
mod device;
mod error;
mod ids;
mod presence;
mod social;
mod text;

pub use conversation::{
    AddPolicy, ConversationKind, GroupName, GroupTitle, MIN_MEMBER_CAP, Role, Visibility,
    check_member_cap,
};
pub use device::{MAX_REGISTRATION_ID, RegistrationId};
pub use error::DomainError;
pub use ids::{DeviceId, UserId};
pub use presence::{
    PresenceSettings, PresenceStatus, PresenceView, PresenceVisibility, presence_view,
};
pub use social::{
    AvatarBlobId, MessagePolicy, ProfileVisibility, Relation, Viewer, profile_visible,
};
pub use text::{DeviceName, DisplayName, Password, Platform, Username};
