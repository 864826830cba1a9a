//! Profiles and privacy: the avatar reference, the two privacy settings of
//! an account, how a pair of users relate (contacts, blocks), and the one
//! rule that decides who may see a profile. Pure values and functions; the
//! store reads the facts, this module decides.

use crate::DomainError;

/// A reference to an avatar image in the blob store: 1 to 128 characters of
/// `[A-Za-z0-9_-]`. Opaque to the gateway, which never holds the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarBlobId(String);

impl AvatarBlobId {
    pub const MAX: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > Self::MAX {
            return Err(DomainError::new(
                "avatarBlobId",
                format!("must be 1 to {} characters long", Self::MAX),
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(DomainError::new(
                "avatarBlobId",
                "may only contain letters A-Z and a-z, digits, '_' and '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Who may start a direct conversation with an account. Enforced by the send
/// path; stored and edited here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessagePolicy {
    /// Any user the account has not blocked.
    #[default]
    Everyone,
    /// Only users the account has in its contact list.
    Contacts,
}

impl MessagePolicy {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Contacts => "contacts",
        }
    }

    /// Reads the stored form. An unknown value (impossible under the
    /// database's CHECK) reads as the stricter setting: fail closed.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "everyone" => Self::Everyone,
            _ => Self::Contacts,
        }
    }
}

/// Who may see an account's profile (username lookup, display name and
/// avatar). The owner always sees their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProfileVisibility {
    /// Anyone, even without an account, except users the owner blocked.
    #[default]
    Everyone,
    /// Only users the owner has in its contact list (and not blocked).
    Contacts,
    /// Only the owner.
    Nobody,
}

impl ProfileVisibility {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Contacts => "contacts",
            Self::Nobody => "nobody",
        }
    }

    /// Reads the stored form; an unknown value reads as `Nobody` (fail
    /// closed).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "everyone" => Self::Everyone,
            "contacts" => Self::Contacts,
            _ => Self::Nobody,
        }
    }
}

/// How user `a` and user `b` relate, in both directions. Read in one query
/// by the store (`social::relation`); the send path asks it for every direct
/// message, so it stays four booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relation {
    pub a_blocked_b: bool,
    pub b_blocked_a: bool,
    pub a_has_b_as_contact: bool,
    pub b_has_a_as_contact: bool,
}

impl Relation {
    /// The same facts seen from `b`'s side.
    pub fn reversed(self) -> Relation {
        Relation {
            a_blocked_b: self.b_blocked_a,
            b_blocked_a: self.a_blocked_b,
            a_has_b_as_contact: self.b_has_a_as_contact,
            b_has_a_as_contact: self.a_has_b_as_contact,
        }
    }

    /// Whether either user blocks the other.
    pub fn blocked_either_way(self) -> bool {
        self.a_blocked_b || self.b_blocked_a
    }
}

/// Who is looking at a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// No account (no token).
    Anonymous,
    /// The profile's owner.
    Owner,
    /// Another account; `relation` is read with the **owner as `a`** and the
    /// viewer as `b`.
    User(Relation),
}

/// The visibility rule, in one place: the owner always sees their profile;
/// a user the owner blocked never does; otherwise the owner's setting
/// decides (`contacts` means "users the owner has as contacts").
pub fn profile_visible(visibility: ProfileVisibility, viewer: Viewer) -> bool {
    match viewer {
        Viewer::Owner => true,
        Viewer::User(r) if r.a_blocked_b => false,
        Viewer::Anonymous => visibility == ProfileVisibility::Everyone,
        Viewer::User(r) => match visibility {
            ProfileVisibility::Everyone => true,
            ProfileVisibility::Contacts => r.a_has_b_as_contact,
            ProfileVisibility::Nobody => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_ids_are_bounded_and_plain() {
        assert!(AvatarBlobId::parse("blob_01-AZ").is_ok());
        assert!(AvatarBlobId::parse(&"a".repeat(128)).is_ok());
        assert!(AvatarBlobId::parse(&"a".repeat(129)).is_err());
        assert!(AvatarBlobId::parse("").is_err());
        for bad in ["a b", "a/b", "a.b", "é", "a\n"] {
            assert!(AvatarBlobId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_round_trip_and_fail_closed() {
        for p in [MessagePolicy::Everyone, MessagePolicy::Contacts] {
            assert_eq!(MessagePolicy::from_stored(p.as_str()), p);
        }
        for v in [
            ProfileVisibility::Everyone,
            ProfileVisibility::Contacts,
            ProfileVisibility::Nobody,
        ] {
            assert_eq!(ProfileVisibility::from_stored(v.as_str()), v);
        }
        assert_eq!(MessagePolicy::from_stored("??"), MessagePolicy::Contacts);
        assert_eq!(
            ProfileVisibility::from_stored("??"),
            ProfileVisibility::Nobody
        );
    }

    #[test]
    fn the_visibility_matrix() {
        use ProfileVisibility::*;
        let stranger = Viewer::User(Relation::default());
        let contact = Viewer::User(Relation {
            a_has_b_as_contact: true,
            ..Relation::default()
        });
        // The viewer has the owner as a contact, not the other way round.
        let fan = Viewer::User(Relation {
            b_has_a_as_contact: true,
            ..Relation::default()
        });
        let blocked_contact = Viewer::User(Relation {
            a_blocked_b: true,
            a_has_b_as_contact: true,
            ..Relation::default()
        });
        // The viewer blocked the owner: the owner's setting still applies.
        let blocker = Viewer::User(Relation {
            b_blocked_a: true,
            ..Relation::default()
        });
        let cases = [
            (Viewer::Anonymous, [true, false, false]),
            (stranger, [true, false, false]),
            (fan, [true, false, false]),
            (contact, [true, true, false]),
            (blocked_contact, [false, false, false]),
            (blocker, [true, false, false]),
            (Viewer::Owner, [true, true, true]),
        ];
        for (viewer, expected) in cases {
            for (visibility, want) in [Everyone, Contacts, Nobody].into_iter().zip(expected) {
                assert_eq!(
                    profile_visible(visibility, viewer),
                    want,
                    "{viewer:?} / {visibility:?}"
                );
            }
        }
    }

    #[test]
    fn relations_reverse() {
        let r = Relation {
            a_blocked_b: true,
            b_blocked_a: false,
            a_has_b_as_contact: false,
            b_has_a_as_contact: true,
        };
        assert_eq!(r.reversed().reversed(), r);
        assert!(r.reversed().b_blocked_a && r.reversed().a_has_b_as_contact);
        assert!(r.blocked_either_way());
        assert!(!Relation::default().blocked_either_way());
    }
}
