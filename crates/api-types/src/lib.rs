//! Passerelle's REST contract: the JSON bodies clients send and receive, with
//! their OpenAPI schemas. Only serde and utoipa live here (no database, no
//! actix), so a Rust client, the load generator and the gateway share one
//! definition and cannot drift apart.
//!
//! Conventions: camelCase fields; request bodies reject unknown fields (a
//! client cannot smuggle data the gateway does not know about); timestamps are
//! RFC 3339 in UTC.

pub mod account;
pub mod auth;
pub mod blobs;
pub mod conversations;
pub mod devices;
pub mod error;
pub mod games;
pub mod health;
pub mod history;
pub mod presence;
pub mod receipts;
pub mod requests;
pub mod rooms;
pub mod social;
pub mod ws;

pub use account::{ChangePasswordRequest, DeleteAccountRequest, Me, UpdateMeRequest};
pub use auth::{CredentialsRequest, RefreshRequest, TokenResponse};
pub use blobs::{BlobGrant, BlobPurpose, UploadRequest};
pub use conversations::{
    AddMemberRequest, AddMemberResponse, AddOutcome, AddPolicy, AssignableRole, Conversation,
    ConversationKind, ConversationList, CreateConversationRequest, CreateDirect, CreateGroup,
    GroupVisibility, Invite, InviteList, JoinLink, Member, MemberList, MemberRole, SetRoleRequest,
    TransferOwnershipRequest, UpdateConversationRequest,
};
pub use devices::{
    Device, DeviceList, DirectoryEntry, RenameDeviceRequest, ReregisterRequest, UserDevices,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use games::{GameInvite, GameInviteState};
pub use health::{Health, Readiness};
pub use history::{HistoryQuery, MarkReadRequest, MessagePage, ReadMarker};
pub use presence::{PresenceList, PresenceStatus, PresenceVisibility, UserPresence};
pub use receipts::{MessageReceipts, ReachState, RecipientReceipt};
pub use requests::{MessageRequest, MessageRequestList, MessageRequestState};
pub use rooms::LinkRoom;
pub use social::{
    AddContactRequest, BlockList, BlockedUser, Contact, ContactList, MessagePolicy, PageQuery,
    ProfileVisibility, PublicProfile,
};
