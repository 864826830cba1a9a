//! Bodies of the conversation endpoints: direct conversations and groups
//! (`/v1/conversations`), their members, invitations (`/v1/invites`),
//! public groups by name (`/v1/groups/{name}`) and join links
//! (`/v1/join/{token}`). Metadata only: names, titles, roles and times,
//! never message content.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::account::{not_null, present};

/// What a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// One per pair of users, with both as members.
    Direct,
    /// A named group with roles.
    Group,
    /// A link room: created with `POST /v1/rooms`, entered over the
    /// WebSocket by whoever holds its link, gone after its last participant
    /// leaves. Its members are the users in it now.
    Link,
}

/// Who can find and join a group without an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupVisibility {
    /// Found by name, seen and joined by any signed-in user.
    Public,
    /// Known to members and invitees only; joined by invitation or join
    /// link.
    #[default]
    Private,
}

/// How a member brings someone into a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AddPolicy {
    /// An invitation that the invitee accepts or declines; any member may
    /// invite.
    #[default]
    Invite,
    /// Added at once; only the owner and admins may add.
    Direct,
}

/// A member's role in a conversation (direct conversations: `member`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Owner,
    Admin,
    Member,
}

/// A role the owner may give (ownership moves with
/// `POST /v1/conversations/{id}/owner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssignableRole {
    Admin,
    Member,
}

/// `POST /v1/conversations`: a direct conversation with one user, or a new
/// group. Chosen by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CreateConversationRequest {
    /// The pair's direct conversation, created if it does not exist yet.
    Direct(CreateDirect),
    /// A new group; the caller is its owner.
    Group(CreateGroup),
}

/// The other user of a direct conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDirect {
    pub user_id: Uuid,
}

/// A new group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroup {
    /// The unique handle: 3 to 64 of `a-z 0-9 _ . -`, lower-cased.
    pub name: String,
    /// Shown to members: 1 to 128 characters, trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Default `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<GroupVisibility>,
    /// Default `invite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_policy: Option<AddPolicy>,
    /// Most members at once: 2 to `conversations.max_member_cap`; default
    /// `conversations.default_member_cap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_cap: Option<u32>,
    /// Users to bring in at once (at most 100), invited or added according
    /// to `addPolicy`. Ids that name no user, users who block the caller and
    /// users the caller blocks are left out silently.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Uuid>,
}

impl CreateGroup {
    /// Most entries of `members`.
    pub const MAX_MEMBERS: usize = 100;
}

/// `PATCH /v1/conversations/{id}`: change a conversation's settings. A
/// field left out stays as it is; `title: null` removes the title,
/// `disappearSecs: null` turns the timer off. A direct conversation takes
/// `disappearSecs` only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateConversationRequest {
    /// 1 to 128 characters, trimmed; `null` removes the title.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub visibility: Option<GroupVisibility>,
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub add_policy: Option<AddPolicy>,
    /// At least the current number of members.
    #[serde(
        default,
        deserialize_with = "not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    pub member_cap: Option<u32>,
    /// Disappearing messages: messages sent from now on are deleted this
    /// many seconds after they are sent (1 to 31,536,000, one year);
    /// `null` turns the timer off. Set by the owner and admins of a group,
    /// by either member of a direct conversation.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>)]
    pub disappear_secs: Option<Option<u32>>,
}

impl UpdateConversationRequest {
    /// The longest disappearing-message timer: one year.
    pub const MAX_DISAPPEAR_SECS: u32 = 31_536_000;
}

/// A conversation as the caller sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: Uuid,
    pub kind: ConversationKind,
    /// Groups: the unique handle.
    pub name: Option<String>,
    pub title: Option<String>,
    pub visibility: GroupVisibility,
    pub add_policy: AddPolicy,
    pub member_cap: u32,
    pub member_count: u32,
    /// The caller's role; `null` when the caller is not a member (a public
    /// group, or an invitation).
    pub role: Option<MemberRole>,
    /// When the caller joined; `null` when not a member.
    pub joined_at: Option<DateTime<Utc>>,
    /// Direct conversations: the other member (the caller for a
    /// conversation with oneself).
    pub peer_id: Option<Uuid>,
    /// The current join link's token, shown to the owner and admins only.
    pub join_token: Option<Uuid>,
    /// The disappearing-message timer in seconds; `null` when off.
    pub disappear_secs: Option<u32>,
    /// A direct conversation that is a message request *to the caller*:
    /// `pending` or `declined`; `null` otherwise (always for the requester).
    pub request: Option<crate::requests::MessageRequestState>,
    /// Members: messages from others that the caller can see, newer than
    /// their read marker (all since they joined without one), at most 1000;
    /// 0 for non-members.
    pub unread_count: u32,
    /// More than 1000 are unread (`unreadCount` is then 1000).
    pub unread_capped: bool,
    /// The `serverId` the caller marked the conversation read up to;
    /// `null` if they never did.
    pub read_up_to: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A page of the caller's conversations, oldest membership first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationList {
    pub conversations: Vec<Conversation>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: Uuid,
    pub username: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

/// A page of members, in the order they joined.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberList {
    pub members: Vec<Member>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /v1/conversations/{id}/members`: bring a user into a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMemberRequest {
    pub user_id: Uuid,
}

/// What bringing a user in did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AddOutcome {
    /// A member now (add policy `direct`).
    Added,
    /// Invited; a member once they accept (add policy `invite`).
    Invited,
}

/// The answer to `POST /v1/conversations/{id}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberResponse {
    pub user_id: Uuid,
    pub outcome: AddOutcome,
    /// When the user was added, or invited.
    pub at: DateTime<Utc>,
}

/// `PUT /v1/conversations/{id}/members/{userId}/role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRoleRequest {
    pub role: AssignableRole,
}

/// `POST /v1/conversations/{id}/owner`: hand ownership to a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferOwnershipRequest {
    pub user_id: Uuid,
}

/// A pending invitation of the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    pub conversation_id: Uuid,
    pub name: Option<String>,
    pub title: Option<String>,
    pub member_count: u32,
    /// Who invited the caller.
    pub inviter_id: Uuid,
    pub invited_at: DateTime<Utc>,
}

/// A page of the caller's pending invitations, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteList {
    pub invites: Vec<Invite>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A group's join link: whoever holds the token joins with
/// `POST /v1/join/{token}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinLink {
    pub token: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_requests_are_chosen_by_kind_and_strict() {
        let direct: CreateConversationRequest =
            serde_json::from_value(json!({"kind": "direct", "userId": Uuid::nil()}))
                .expect("direct");
        assert_eq!(
            direct,
            CreateConversationRequest::Direct(CreateDirect {
                user_id: Uuid::nil()
            })
        );
        let group: CreateConversationRequest =
            serde_json::from_value(json!({"kind": "group", "name": "club", "memberCap": 5}))
                .expect("group");
        let CreateConversationRequest::Group(g) = group else {
            panic!("a group");
        };
        assert_eq!(g.member_cap, Some(5));
        assert!(g.members.is_empty());
        for bad in [
            json!({"kind": "direct", "userId": Uuid::nil(), "name": "x"}),
            json!({"kind": "group", "name": "club", "content": "hi"}),
            json!({"kind": "link"}),
            json!({"userId": Uuid::nil()}),
        ] {
            assert!(
                serde_json::from_value::<CreateConversationRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn updates_tell_null_from_absent() {
        let u: UpdateConversationRequest =
            serde_json::from_value(json!({"title": null})).expect("update");
        assert_eq!(u.title, Some(None));
        let u: UpdateConversationRequest = serde_json::from_value(json!({})).expect("update");
        assert_eq!(u, UpdateConversationRequest::default());
        assert!(
            serde_json::from_value::<UpdateConversationRequest>(json!({"memberCap": null}))
                .is_err()
        );
        assert!(serde_json::from_value::<UpdateConversationRequest>(json!({"name": "x"})).is_err());
    }
}
