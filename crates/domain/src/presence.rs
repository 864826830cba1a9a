//! Presence: the three states a user can be shown in, the account's
//! presence settings, how a user's sessions add up to one state, and the
//! one rule that decides what another user may see of it
//! ([`presence_view`]). Pure values and functions; the store reads the
//! facts (sessions, settings, contacts, blocks), this module decides.

use crate::Relation;

/// What a user's presence is: connected and active, connected but away,
/// or not connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresenceStatus {
    Online,
    Away,
    Offline,
}

impl PresenceStatus {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    /// Reads the stored form; an unknown value (impossible under the
    /// database's CHECK) reads as `Offline`, which reveals nothing.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "online" => Self::Online,
            "away" => Self::Away,
            _ => Self::Offline,
        }
    }

    /// A user's status from the away flags of their sessions (connected or
    /// within their grace after closing): offline with none, online when at
    /// least one is active, away when every one is away.
    pub fn of_sessions(away: impl IntoIterator<Item = bool>) -> Self {
        let mut status = Self::Offline;
        for away in away {
            if !away {
                return Self::Online;
            }
            status = Self::Away;
        }
        status
    }
}

/// Who may see an account's presence (or its last-seen time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PresenceVisibility {
    /// Any signed-in user the owner has not blocked (and who has not
    /// blocked the owner).
    Everyone,
    /// Only users the owner has in its contact list.
    #[default]
    Contacts,
    /// Nobody but the owner.
    Nobody,
}

impl PresenceVisibility {
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

    fn admits(self, relation: Relation) -> bool {
        match self {
            Self::Everyone => true,
            Self::Contacts => relation.a_has_b_as_contact,
            Self::Nobody => false,
        }
    }
}

/// An account's presence settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PresenceSettings {
    /// Who sees the status.
    pub visibility: PresenceVisibility,
    /// Who, among those who see the status, also sees the last-seen time.
    pub last_seen: PresenceVisibility,
    /// Shown as offline to everyone while connected.
    pub invisible: bool,
}

impl PresenceSettings {
    /// The status others are shown for a real `status`.
    pub fn shown(self, status: PresenceStatus) -> PresenceStatus {
        if self.invisible {
            PresenceStatus::Offline
        } else {
            status
        }
    }
}

/// What a viewer may see of an owner's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PresenceView {
    /// The status (online, away, offline).
    pub status: bool,
    /// The last-seen time (only ever with the status).
    pub last_seen: bool,
}

/// The presence rule, in one place. `relation` is read with the **owner as
/// `a`** and the viewer as `b`. A block either way hides everything (the
/// blocked never observe the blocker's activity, and a blocker gives up
/// watching the user they blocked); otherwise the owner's two settings
/// decide, `contacts` meaning "users the owner has as contacts".
pub fn presence_view(settings: PresenceSettings, relation: Relation) -> PresenceView {
    if relation.blocked_either_way() || !settings.visibility.admits(relation) {
        return PresenceView::default();
    }
    PresenceView {
        status: true,
        last_seen: settings.last_seen.admits(relation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_add_up_to_one_status() {
        use PresenceStatus::*;
        assert_eq!(PresenceStatus::of_sessions([]), Offline);
        assert_eq!(PresenceStatus::of_sessions([true]), Away);
        assert_eq!(PresenceStatus::of_sessions([true, true]), Away);
        assert_eq!(PresenceStatus::of_sessions([true, false]), Online);
        assert_eq!(PresenceStatus::of_sessions([false]), Online);
        for s in [Online, Away, Offline] {
            assert_eq!(PresenceStatus::from_stored(s.as_str()), s);
        }
        assert_eq!(PresenceStatus::from_stored("??"), Offline);
    }

    #[test]
    fn invisible_users_are_shown_offline() {
        let settings = PresenceSettings {
            invisible: true,
            ..PresenceSettings::default()
        };
        for s in [
            PresenceStatus::Online,
            PresenceStatus::Away,
            PresenceStatus::Offline,
        ] {
            assert_eq!(settings.shown(s), PresenceStatus::Offline);
            assert_eq!(PresenceSettings::default().shown(s), s);
        }
    }

    #[test]
    fn the_presence_matrix() {
        use PresenceVisibility::*;
        let stranger = Relation::default();
        let contact = Relation {
            a_has_b_as_contact: true,
            ..Relation::default()
        };
        // The viewer has the owner as a contact, not the other way round.
        let fan = Relation {
            b_has_a_as_contact: true,
            ..Relation::default()
        };
        let blocked_contact = Relation {
            a_blocked_b: true,
            a_has_b_as_contact: true,
            ..Relation::default()
        };
        // Unlike profiles, a viewer who blocked the owner sees nothing.
        let blocker = Relation {
            b_blocked_a: true,
            a_has_b_as_contact: true,
            ..Relation::default()
        };
        let all = [Everyone, Contacts, Nobody];
        for (relation, status_for) in [
            (stranger, [true, false, false]),
            (fan, [true, false, false]),
            (contact, [true, true, false]),
            (blocked_contact, [false, false, false]),
            (blocker, [false, false, false]),
        ] {
            for (visibility, want_status) in all.into_iter().zip(status_for) {
                for last_seen in all {
                    let settings = PresenceSettings {
                        visibility,
                        last_seen,
                        invisible: false,
                    };
                    let view = presence_view(settings, relation);
                    assert_eq!(view.status, want_status, "{relation:?} {settings:?}");
                    let seen = want_status && last_seen.admits(relation);
                    assert_eq!(view.last_seen, seen, "{relation:?} {settings:?}");
                    assert!(!view.last_seen || view.status, "last seen implies status");
                }
            }
        }
        assert_eq!(PresenceVisibility::from_stored("??"), Nobody);
        for v in all {
            assert_eq!(PresenceVisibility::from_stored(v.as_str()), v);
        }
    }
}
