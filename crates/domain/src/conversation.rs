//! Conversations: their kinds and settings, a group's name and title, the
//! roles of members, and the rules that say which member may change what.
//! Pure values and functions; the store reads the facts, the gateway asks
//! these rules inside the transaction that applies a change.
//!
//! The rules, in one place (docs/security-model.md quotes them):
//! - the **owner** may do everything: settings, join link, roles, ownership,
//!   removing anyone;
//! - an **admin** may change settings and the join link, add or invite
//!   users, and remove plain members (not the owner, not other admins);
//! - a plain **member** may invite users when the group's add policy is
//!   `invite`, and leave; nothing else.

use crate::DomainError;

/// What a conversation is. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    /// Exactly one per pair of users (or one user with themself), with both
    /// as members; no settings, no membership changes.
    Direct,
    /// A named group with roles.
    Group,
    /// A link room: entered by holding its link, its members are the users
    /// in it now, deleted when the last one leaves.
    Link,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
            Self::Link => "link",
        }
    }

    /// Reads the stored form; `None` for a value this build does not know.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(Self::Direct),
            "group" => Some(Self::Group),
            "link" => Some(Self::Link),
            _ => None,
        }
    }
}

/// Who can find and join a group without an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    /// Found by name (`GET /v1/groups/{name}`), seen and joined by anyone.
    Public,
    /// Known only to members and invitees; joined by invitation or link.
    #[default]
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    /// Reads the stored form; unknown reads as `Private` (fail closed).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "public" => Self::Public,
            _ => Self::Private,
        }
    }
}

/// How a member brings someone into a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddPolicy {
    /// An invitation the invitee accepts or declines; any member may invite.
    #[default]
    Invite,
    /// Added at once; only the owner and admins may add.
    Direct,
}

impl AddPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Direct => "direct",
        }
    }

    /// Reads the stored form; unknown reads as `Invite` (the invitee keeps
    /// the choice: fail closed).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "direct" => Self::Direct,
            _ => Self::Invite,
        }
    }
}

/// A member's role. Direct conversations have plain members only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Reads the stored form; unknown reads as `Member` (the least right).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "owner" => Self::Owner,
            "admin" => Self::Admin,
            _ => Self::Member,
        }
    }

    /// Owner and admins.
    pub fn is_manager(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Title, visibility, add policy, member cap and the join link.
    pub fn may_edit(self) -> bool {
        self.is_manager()
    }

    /// Bringing a user in under `policy`: managers always; plain members
    /// only by invitation (an invitation leaves the choice to the invitee,
    /// an addition does not).
    pub fn may_add(self, policy: AddPolicy) -> bool {
        self.is_manager() || policy == AddPolicy::Invite
    }

    /// Removing a member whose role is `target` (not oneself: that is
    /// leaving). The owner removes anyone; an admin, plain members only.
    pub fn may_remove(self, target: Role) -> bool {
        match self {
            Self::Owner => target != Self::Owner,
            Self::Admin => target == Self::Member,
            Self::Member => false,
        }
    }

    /// Promoting, demoting and handing over ownership: the owner only.
    pub fn may_assign_roles(self) -> bool {
        self == Self::Owner
    }
}

/// A group's unique handle: 3 to 64 characters of `[a-z0-9_.-]`, lower-cased
/// first (so `Rust-Fans` is `rust-fans`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupName(String);

impl GroupName {
    pub const MIN: usize = 3;
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let canonical = raw.to_ascii_lowercase();
        let len = canonical.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(DomainError::new(
                "name",
                format!("must be {} to {} characters long", Self::MIN, Self::MAX),
            ));
        }
        if !canonical.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.' || c == '-'
        }) {
            return Err(DomainError::new(
                "name",
                "may only contain letters a-z, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A group's title as shown to its members: trimmed, 1 to 128 characters,
/// no control characters. Chosen by the group, unlike the name it need not
/// be unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTitle(String);

impl GroupTitle {
    pub const MAX: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        crate::text::bounded_text("title", raw, Self::MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The smallest member cap a group may have: its owner and one more.
pub const MIN_MEMBER_CAP: u32 = 2;

/// Checks a requested member cap against the deployment's maximum.
pub fn check_member_cap(cap: u32, max: u32) -> Result<u32, DomainError> {
    if (MIN_MEMBER_CAP..=max).contains(&cap) {
        Ok(cap)
    } else {
        Err(DomainError::new(
            "memberCap",
            format!("must be {MIN_MEMBER_CAP} to {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_canonical_and_bounded() {
        assert_eq!(
            GroupName::parse("Rust-Fans_2.0").map(GroupName::into_string),
            Ok("rust-fans_2.0".into())
        );
        assert!(GroupName::parse("ab").is_err());
        assert!(GroupName::parse(&"a".repeat(64)).is_ok());
        assert!(GroupName::parse(&"a".repeat(65)).is_err());
        for bad in ["with space", "émile", "a/b", "semi;colon", "tab\tx"] {
            assert!(GroupName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            GroupTitle::parse("  Book club ").map(GroupTitle::into_string),
            Ok("Book club".into())
        );
        assert!(GroupTitle::parse(" ").is_err());
        assert!(GroupTitle::parse(&"x".repeat(129)).is_err());
        assert!(GroupTitle::parse("a\u{0}b").is_err());
    }

    #[test]
    fn the_role_matrix() {
        use Role::*;
        for (role, edit, assign) in [
            (Owner, true, true),
            (Admin, true, false),
            (Member, false, false),
        ] {
            assert_eq!(role.may_edit(), edit, "{role:?} edit");
            assert_eq!(role.may_assign_roles(), assign, "{role:?} roles");
            assert!(role.may_add(AddPolicy::Invite), "{role:?} invites");
        }
        assert!(Owner.may_add(AddPolicy::Direct));
        assert!(Admin.may_add(AddPolicy::Direct));
        assert!(!Member.may_add(AddPolicy::Direct));

        let removes = |a: Role, t: Role| a.may_remove(t);
        assert!(removes(Owner, Admin) && removes(Owner, Member));
        assert!(!removes(Owner, Owner));
        assert!(removes(Admin, Member));
        assert!(!removes(Admin, Admin) && !removes(Admin, Owner));
        assert!(!removes(Member, Member) && !removes(Member, Admin));
    }

    #[test]
    fn stored_forms_round_trip_and_fail_closed() {
        for r in [Role::Owner, Role::Admin, Role::Member] {
            assert_eq!(Role::from_stored(r.as_str()), r);
        }
        assert_eq!(Role::from_stored("king"), Role::Member);
        assert_eq!(Visibility::from_stored("?"), Visibility::Private);
        assert_eq!(AddPolicy::from_stored("?"), AddPolicy::Invite);
        assert_eq!(ConversationKind::from_stored("?"), None);
        for k in [
            ConversationKind::Direct,
            ConversationKind::Group,
            ConversationKind::Link,
        ] {
            assert_eq!(ConversationKind::from_stored(k.as_str()), Some(k));
        }
    }

    #[test]
    fn member_caps() {
        assert_eq!(check_member_cap(2, 10), Ok(2));
        assert_eq!(check_member_cap(10, 10), Ok(10));
        assert!(check_member_cap(1, 10).is_err());
        assert!(check_member_cap(11, 10).is_err());
    }
}
