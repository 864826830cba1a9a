//! Queries on the `users` table: accounts, local (password) or from an
//! external identity provider (issuer + subject). Usernames arrive already
//! lower-cased; this module does not normalise them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use passerelle_domain::{MessagePolicy, PresenceSettings, PresenceVisibility, ProfileVisibility};

use crate::UserId;
use crate::conn::DbConn;
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{device_events, devices, messages, users};
use crate::sql_types::{Id, Ts};

/// One account as stored.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub external_issuer: Option<String>,
    pub external_subject: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Opaque blob-store reference of the avatar image.
    pub avatar_blob_id: Option<String>,
    pub message_policy: MessagePolicy,
    pub profile_visibility: ProfileVisibility,
    /// Whether the peer of a direct conversation hears when this user reads.
    pub read_receipts: bool,
    /// Who sees this user's presence and last-seen time; invisible mode.
    pub presence: PresenceSettings,
    /// Whether the device directory shows this user's device names to
    /// others.
    pub share_device_names: bool,
}

/// A new account, with no avatar and the default privacy settings. `now`
/// becomes both `created_at` and `updated_at`.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub external_issuer: Option<&'a str>,
    pub external_subject: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Row shape in column order of `users::all_columns`.
#[derive(Queryable)]
pub(crate) struct Record {
    id: Id,
    username: String,
    display_name: Option<String>,
    password_hash: Option<String>,
    external_issuer: Option<String>,
    external_subject: Option<String>,
    created_at: Ts,
    updated_at: Ts,
    avatar_blob_id: Option<String>,
    message_policy: String,
    profile_visibility: String,
    read_receipts: bool,
    presence_visibility: String,
    last_seen_visibility: String,
    invisible: bool,
    share_device_names: bool,
}

impl From<Record> for UserRow {
    fn from(r: Record) -> Self {
        UserRow {
            id: r.id.into(),
            username: r.username,
            display_name: r.display_name,
            password_hash: r.password_hash,
            external_issuer: r.external_issuer,
            external_subject: r.external_subject,
            created_at: r.created_at.get(),
            updated_at: r.updated_at.get(),
            avatar_blob_id: r.avatar_blob_id,
            message_policy: MessagePolicy::from_stored(&r.message_policy),
            profile_visibility: ProfileVisibility::from_stored(&r.profile_visibility),
            read_receipts: r.read_receipts,
            presence: PresenceSettings {
                visibility: PresenceVisibility::from_stored(&r.presence_visibility),
                last_seen: PresenceVisibility::from_stored(&r.last_seen_visibility),
                invisible: r.invisible,
            },
            share_device_names: r.share_device_names,
        }
    }
}

/// Inserts an account. `Conflict("username")` when the name is taken,
/// `Conflict("external_identity")` when the issuer/subject pair is.
pub fn insert(conn: &mut DbConn, user: &NewUser<'_>) -> StoreResult<()> {
    let now = Ts::new(user.now);
    conn.guarded(|c| {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(Id::from(user.id)),
                users::username.eq(user.username),
                users::display_name.eq(user.display_name),
                users::password_hash.eq(user.password_hash),
                users::external_issuer.eq(user.external_issuer),
                users::external_subject.eq(user.external_subject),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(&mut c.0)
            .db()?;
        Ok(())
    })
}

pub fn find(conn: &mut DbConn, id: UserId) -> StoreResult<Option<UserRow>> {
    users::table
        .filter(users::id.eq(Id::from(id)))
        .select(users::all_columns)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(UserRow::from))
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> StoreResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(users::all_columns)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(UserRow::from))
}

pub fn find_by_external(
    conn: &mut DbConn,
    issuer: &str,
    subject: &str,
) -> StoreResult<Option<UserRow>> {
    users::table
        .filter(users::external_issuer.eq(issuer))
        .filter(users::external_subject.eq(subject))
        .select(users::all_columns)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(UserRow::from))
}

/// Which of `ids` name an existing account, in one statement.
pub fn existing(
    conn: &mut DbConn,
    ids: &[UserId],
) -> StoreResult<std::collections::HashSet<UserId>> {
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let ids: Vec<Id> = ids.iter().map(|u| Id::from(*u)).collect();
    let found = crate::conn::on_backend!(conn, |c| users::table
        .filter(users::id.eq_any(&ids))
        .select(users::id)
        .load::<Id>(c))
    .db()?;
    Ok(found.into_iter().map(UserId::from).collect())
}

/// Sets (or clears) the display name; `None` if there is no such user.
pub fn set_display_name(
    conn: &mut DbConn,
    id: UserId,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Option<UserRow>> {
    diesel::update(users::table.filter(users::id.eq(Id::from(id))))
        .set((
            users::display_name.eq(name),
            users::updated_at.eq(Ts::new(now)),
        ))
        .returning(users::all_columns)
        .get_result::<Record>(&mut conn.0)
        .optional()
        .db()
        .map(|r| r.map(UserRow::from))
}

/// Replaces the password hash; `false` if there is no such user.
pub fn set_password_hash(
    conn: &mut DbConn,
    id: UserId,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let n = diesel::update(users::table.filter(users::id.eq(Id::from(id))))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(Ts::new(now)),
        ))
        .execute(&mut conn.0)
        .db()?;
    Ok(n > 0)
}

/// Deletes the account; its devices, refresh tokens, streams and messages
/// go with it (FK cascades), and so do the stream events of its devices and
/// of the messages it sent or received directly (removed here: `device_events` has no foreign
/// keys); its blobs are doomed. `false` if there was no such user. Call
/// inside a transaction.
pub fn delete(conn: &mut DbConn, id: UserId) -> StoreResult<bool> {
    let user = Id::from(id);
    diesel::delete(
        device_events::table.filter(
            device_events::device_id.eq_any(
                devices::table
                    .filter(devices::user_id.eq(user))
                    .select(devices::id),
            ),
        ),
    )
    .execute(&mut conn.0)
    .db()?;
    diesel::delete(
        device_events::table.filter(
            device_events::message_id.eq_any(
                messages::table
                    .filter(
                        messages::sender_id
                            .eq(user)
                            .or(messages::recipient_id.eq(Some(user))),
                    )
                    .select(messages::id.nullable()),
            ),
        ),
    )
    .execute(&mut conn.0)
    .db()?;
    // Its blobs, and those of the messages going with it, are deleted from
    // the blob store by the next sweep.
    let gone: Vec<Id> = messages::table
        .filter(
            messages::sender_id
                .eq(user)
                .or(messages::recipient_id.eq(Some(user))),
        )
        .select(messages::id)
        .load(&mut conn.0)
        .db()?;
    crate::blobs::doom_of_messages(conn, &gone, crate::now())?;
    crate::blobs::doom_of_owner(conn, id, crate::now())?;
    let n = diesel::delete(users::table.filter(users::id.eq(user)))
        .execute(&mut conn.0)
        .db()?;
    Ok(n > 0)
}
