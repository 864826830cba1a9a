//! The social graph and the profile side of `users`: contacts (one-way
//! lists), blocks (one-way, never told to the blocked user), the profile
//! and privacy columns, lookup by username, and the pair facts the privacy
//! rules and the send path decide on ([`relation`], [`blocked_pairs`]).
//!
//! This module reads and writes facts; it does not decide who may see what
//! (that is `passerelle_domain::profile_visible`, applied by the gateway).
//! The two lists (adding, removing, paging) are in `lists`, re-exported
//! here. They are paged by keyset on `(created_at, other user's id)`, which
//! the `*_created_at_idx` indexes serve; [`PageKey`] is the position, and
//! the gateway turns it into an opaque cursor.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use passerelle_domain::{MessagePolicy, PresenceVisibility, ProfileVisibility, Relation};

use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{blocks, contacts, users};
use crate::sql_types::{Id, Ts};
use crate::users::{Record as UserRecord, UserRow};

mod lists;

pub(crate) use lists::relations_with;
pub use lists::{add_contact, block, contact, list_blocks, list_contacts, remove_contact, unblock};

/// The public face of an account: what a profile lookup may show, plus the
/// privacy settings that decide whether it may. Never the password hash or
/// external identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_blob_id: Option<String>,
    pub message_policy: MessagePolicy,
    pub profile_visibility: ProfileVisibility,
}

pub(crate) type ProfileColumns = (
    users::id,
    users::username,
    users::display_name,
    users::avatar_blob_id,
    users::message_policy,
    users::profile_visibility,
);

pub(crate) const PROFILE_COLUMNS: ProfileColumns = (
    users::id,
    users::username,
    users::display_name,
    users::avatar_blob_id,
    users::message_policy,
    users::profile_visibility,
);

pub(crate) type ProfileRecord = (Id, String, Option<String>, Option<String>, String, String);

pub(crate) fn profile(r: ProfileRecord) -> Profile {
    Profile {
        user_id: r.0.into(),
        username: r.1,
        display_name: r.2,
        avatar_blob_id: r.3,
        message_policy: MessagePolicy::from_stored(&r.4),
        profile_visibility: ProfileVisibility::from_stored(&r.5),
    }
}

/// A position in a list: the entry's `created_at` and the other user's id.
/// Entries strictly after it come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageKey {
    pub at: DateTime<Utc>,
    pub user_id: UserId,
}

/// One page of a list, and where the next one starts (`None`: this was the
/// last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageKey>,
}

/// One entry of a user's contact or block list: the other user's profile,
/// when the entry was made, and how the two relate, with the **listed user
/// as `a`** and the list's owner as `b` (what the visibility rule needs to
/// decide whether the owner may see the listed user's profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub profile: Profile,
    pub since: DateTime<Utc>,
    pub relation: Relation,
}

/// A profile lookup's answer: the profile and, for an authenticated
/// viewer, how the profile's owner (`a`) and the viewer (`b`) relate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub profile: Profile,
    pub relation: Option<Relation>,
}

// ---- profiles and settings ----

/// The profile of `user`, if it exists.
pub fn profile_by_id(conn: &mut DbConn, user: UserId) -> StoreResult<Option<Profile>> {
    users::table
        .filter(users::id.eq(Id::from(user)))
        .select(PROFILE_COLUMNS)
        .first::<ProfileRecord>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(profile))
}

/// The profile whose username is exactly `username` (the caller has
/// lower-cased and validated it), with its relation to `viewer`. No prefix
/// or pattern matching, ever.
pub fn lookup(
    conn: &mut DbConn,
    username: &str,
    viewer: Option<UserId>,
) -> StoreResult<Option<Found>> {
    let found = users::table
        .filter(users::username.eq(username))
        .select(PROFILE_COLUMNS)
        .first::<ProfileRecord>(&mut conn.0)
        .optional()
        .db()?
        .map(profile);
    let Some(profile) = found else {
        return Ok(None);
    };
    let relation = match viewer {
        Some(v) if v != profile.user_id => Some(relation(conn, profile.user_id, v)?),
        _ => None,
    };
    Ok(Some(Found { profile, relation }))
}

/// What `PATCH /v1/me` may change. `None` leaves a field as it is;
/// `Some(None)` clears a nullable one. Values are already validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub display_name: Option<Option<String>>,
    pub avatar_blob_id: Option<Option<String>>,
    pub message_policy: Option<MessagePolicy>,
    pub profile_visibility: Option<ProfileVisibility>,
    pub read_receipts: Option<bool>,
    pub presence_visibility: Option<PresenceVisibility>,
    pub last_seen_visibility: Option<PresenceVisibility>,
    pub invisible: Option<bool>,
    pub share_device_names: Option<bool>,
}

impl ProfileChange {
    /// Whether the change touches what others may see of the user's
    /// presence (so it must be announced again).
    pub fn changes_presence(&self) -> bool {
        self.presence_visibility.is_some()
            || self.last_seen_visibility.is_some()
            || self.invisible.is_some()
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct Changes<'a> {
    display_name: Option<Option<&'a str>>,
    avatar_blob_id: Option<Option<&'a str>>,
    message_policy: Option<&'static str>,
    profile_visibility: Option<&'static str>,
    read_receipts: Option<bool>,
    presence_visibility: Option<&'static str>,
    last_seen_visibility: Option<&'static str>,
    invisible: Option<bool>,
    share_device_names: Option<bool>,
    // Always set, so the changeset is never empty.
    updated_at: Ts,
}

/// Applies `change` to `user`; `None` if there is no such user.
pub fn update_profile(
    conn: &mut DbConn,
    user: UserId,
    change: &ProfileChange,
    now: DateTime<Utc>,
) -> StoreResult<Option<UserRow>> {
    let changes = Changes {
        display_name: change.display_name.as_ref().map(Option::as_deref),
        avatar_blob_id: change.avatar_blob_id.as_ref().map(Option::as_deref),
        message_policy: change.message_policy.map(MessagePolicy::as_str),
        profile_visibility: change.profile_visibility.map(ProfileVisibility::as_str),
        read_receipts: change.read_receipts,
        presence_visibility: change.presence_visibility.map(PresenceVisibility::as_str),
        last_seen_visibility: change.last_seen_visibility.map(PresenceVisibility::as_str),
        invisible: change.invisible,
        share_device_names: change.share_device_names,
        updated_at: Ts::new(now),
    };
    diesel::update(users::table.filter(users::id.eq(Id::from(user))))
        .set(&changes)
        .returning(users::all_columns)
        .get_result::<UserRecord>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(UserRow::from))
}

// ---- pair facts ----

/// How `a` and `b` relate, in one statement (four indexed `EXISTS`): the
/// send path asks this for every direct message.
pub fn relation(conn: &mut DbConn, a: UserId, b: UserId) -> StoreResult<Relation> {
    let (a, b) = (Id::from(a), Id::from(b));
    let block = |x: Id, y: Id| {
        exists(
            blocks::table
                .filter(blocks::blocker_id.eq(x))
                .filter(blocks::blocked_id.eq(y)),
        )
    };
    let contact = |x: Id, y: Id| {
        exists(
            contacts::table
                .filter(contacts::owner_id.eq(x))
                .filter(contacts::contact_id.eq(y)),
        )
    };
    let (a_blocked_b, b_blocked_a, a_has_b_as_contact, b_has_a_as_contact) =
        diesel::select((block(a, b), block(b, a), contact(a, b), contact(b, a)))
            .get_result::<(bool, bool, bool, bool)>(&mut conn.0)
            .db()?;
    Ok(Relation {
        a_blocked_b,
        b_blocked_a,
        a_has_b_as_contact,
        b_has_a_as_contact,
    })
}

/// The recipients that block `sender` or that `sender` blocks, in one
/// statement; the batch form of [`relation`] for a send to many users.
pub fn blocked_pairs(
    conn: &mut DbConn,
    sender: UserId,
    recipients: &[UserId],
) -> StoreResult<HashSet<UserId>> {
    if recipients.is_empty() {
        return Ok(HashSet::new());
    }
    let me = Id::from(sender);
    let ids: Vec<Id> = recipients.iter().map(|u| Id::from(*u)).collect();
    let rows = on_backend!(conn, |c| blocks::table
        .filter(blocks::blocker_id.eq(me))
        .filter(blocks::blocked_id.eq_any(&ids))
        .select(blocks::blocked_id)
        .union(
            blocks::table
                .filter(blocks::blocked_id.eq(me))
                .filter(blocks::blocker_id.eq_any(&ids))
                .select(blocks::blocker_id),
        )
        .load::<Id>(c))
    .db()?;
    Ok(rows.into_iter().map(UserId::from).collect())
}

/// Every `(blocker, blocked)` block with a blocker among `blockers` and a
/// blocked user among `blocked`, in one statement: who must not hear of
/// whom when an event about some users goes to others.
pub fn blocks_between(
    conn: &mut DbConn,
    blockers: &[UserId],
    blocked: &[UserId],
) -> StoreResult<HashSet<(UserId, UserId)>> {
    if blockers.is_empty() || blocked.is_empty() {
        return Ok(HashSet::new());
    }
    let a: Vec<Id> = blockers.iter().map(|u| Id::from(*u)).collect();
    let b: Vec<Id> = blocked.iter().map(|u| Id::from(*u)).collect();
    let rows = blocks::table
        .filter(blocks::blocker_id.eq_any(&a))
        .filter(blocks::blocked_id.eq_any(&b))
        .select((blocks::blocker_id, blocks::blocked_id))
        .load::<(Id, Id)>(&mut conn.0)
        .db()?;
    Ok(rows
        .into_iter()
        .map(|(x, y)| (UserId::from(x), UserId::from(y)))
        .collect())
}
