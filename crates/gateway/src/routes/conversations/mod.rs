//! `/v1/conversations`: direct conversations and groups, their settings and
//! join links; members are in [`super::members`], invitations in
//! [`super::invites`], public groups by name in [`super::groups`].
//!
//! What every handler here shares:
//! - [`atomically`]: one transaction per change, in which the conversation
//!   is locked, the rules of `passerelle_domain` are checked, the change is
//!   written and its `conversation` stream events are appended; a refusal
//!   rolls everything back. The events are published after the commit.
//! - [`Access`]: the 404-or-403 rule. A caller who cannot know that the
//!   conversation exists (not a member, not invited, not a public group)
//!   gets the same 404 as for an id that names nothing; a caller who knows
//!   it but lacks the right gets 403.
//! - [`Notes`]: building [`ConversationEvent`]s and appending them, so the
//!   payload stored is always the documented frame's.

pub mod create;
pub mod join;
pub mod join_by_link;
pub mod link_create;
pub mod link_revoke;
pub mod list;
pub mod show;
pub mod update;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use passerelle_api_types::ws::{ConversationChange, ConversationEvent};
use passerelle_api_types::{self as api, Conversation};
use passerelle_domain::{AddPolicy, ConversationKind, Role, UserId, Visibility};
use passerelle_store::batch::{self, Note};
use passerelle_store::conversations::{self, ConversationRow, Membership, RequestState};
use passerelle_store::read_markers;
use passerelle_store::streams::{EventKind, StreamEvent};
use passerelle_store::{DbConn, StoreError, StoreResult};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// Runs `f` in one transaction. An `Err` from `f` rolls the transaction
/// back and is the answer; store errors become their usual answers.
pub(crate) async fn atomically<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    on_store(state, true, f).await
}

/// Runs `f`, which only reads, outside a transaction (so that on SQLite it
/// does not wait for the writer).
pub(crate) async fn reading<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    on_store(state, false, f).await
}

async fn on_store<T, F>(state: &AppState, transaction: bool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let refusal: Arc<Mutex<Option<ApiError>>> = Arc::default();
    let slot = Arc::clone(&refusal);
    let body = move |conn: &mut DbConn| {
        f(conn).map_err(|e| {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            StoreError::Internal("refused; rolled back".into())
        })
    };
    let result = if transaction {
        state.store.transaction(body).await
    } else {
        state.store.run(body).await
    };
    let refused = refusal.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (result, refused) {
        (_, Some(e)) => Err(e),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(e.into()),
    }
}

/// A conversation and where the caller stands in it.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub conversation: ConversationRow,
    /// The caller's membership, if a member.
    pub membership: Option<Membership>,
}

impl Access {
    /// The conversation `id` as `me` may know it: as a member, as an
    /// invitee, or because it is a public group. Anything else is the same
    /// 404 as an unknown id. With `lock`, the row stays locked until the
    /// transaction ends (for changes).
    pub fn load(conn: &mut DbConn, id: Uuid, me: UserId, lock: bool) -> Result<Access, ApiError> {
        let found = if lock {
            conversations::lock(conn, id)?
        } else {
            conversations::find(conn, id)?
        };
        let conversation = found.ok_or(ApiError::NotFound)?;
        let membership = conversations::membership(conn, id, me)?;
        let known = membership.is_some()
            || is_public_group(&conversation)
            || conversations::find_invite(conn, id, me)?.is_some();
        if !known {
            return Err(ApiError::NotFound);
        }
        Ok(Access {
            conversation,
            membership,
        })
    }

    /// Refuses direct conversations (409 `direct_conversation`) and link
    /// rooms (409 `link_room`): only groups have settings and membership
    /// changes here (a link room's members are whoever is in it).
    pub fn group(&self) -> Result<&ConversationRow, ApiError> {
        match self.conversation.kind {
            ConversationKind::Group => Ok(&self.conversation),
            ConversationKind::Direct => Err(ApiError::DirectConversation(
                "direct conversations have no settings and no membership changes",
            )),
            ConversationKind::Link => Err(ApiError::LinkRoom),
        }
    }

    /// The caller's role; 403 for a caller who knows the conversation
    /// without being a member.
    pub fn role(&self) -> Result<Role, ApiError> {
        self.membership
            .map(|m| m.role)
            .ok_or(ApiError::Forbidden("only members may do this"))
    }
}

pub(crate) fn is_public_group(c: &ConversationRow) -> bool {
    c.kind == ConversationKind::Group && c.visibility == Visibility::Public
}

/// Stream events to append in the current transaction.
#[derive(Default)]
pub(crate) struct Notes(Vec<Note>);

impl Notes {
    /// `change` of `conversation`, for every active device of `users`.
    pub fn push(
        &mut self,
        users: Vec<UserId>,
        conversation: Uuid,
        change: ConversationChange,
        subject: Subject,
        at: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        self.push_event(
            users,
            ConversationEvent {
                conversation_id: conversation,
                change,
                user_id: subject.user.map(|u| u.0),
                actor_id: subject.actor.map(|u| u.0),
                role: subject.role.map(role),
                disappear_secs: None,
                at,
            },
        )
    }

    /// A fully built `event`, for every active device of `users`.
    pub fn push_event(
        &mut self,
        users: Vec<UserId>,
        event: ConversationEvent,
    ) -> Result<(), ApiError> {
        let payload = serde_json::to_string(&event)
            .map_err(|e| ApiError::Internal(format!("conversation event: {e}")))?;
        self.0.push(Note {
            users,
            kind: EventKind::Conversation,
            payload,
        });
        Ok(())
    }

    /// Appends the events to the streams; publish the result after the
    /// commit with [`publish`].
    pub fn append(self, conn: &mut DbConn, now: DateTime<Utc>) -> StoreResult<Vec<StreamEvent>> {
        if self.0.is_empty() {
            return Ok(Vec::new());
        }
        batch::append(conn, &self.0, now)
    }
}

/// Who an event is about and who did it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Subject {
    pub user: Option<UserId>,
    pub actor: Option<UserId>,
    pub role: Option<Role>,
}

impl Subject {
    pub fn by(actor: UserId) -> Self {
        Subject {
            actor: Some(actor),
            ..Subject::default()
        }
    }

    pub fn of(user: UserId, actor: UserId) -> Self {
        Subject {
            user: Some(user),
            actor: Some(actor),
            role: None,
        }
    }

    pub fn with_role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }
}

/// Publishes committed stream events (best effort: sessions that miss them
/// read them from the database).
pub(crate) async fn publish(state: &AppState, events: &[StreamEvent]) {
    crate::routing::events::publish_stored(&state.fanout, events).await;
}

/// `conversation` as `me` sees it, with `membership` (theirs, if any).
pub(crate) fn view(
    conn: &mut DbConn,
    conversation: &ConversationRow,
    me: UserId,
    membership: Option<Membership>,
) -> StoreResult<Conversation> {
    let member_count = conversations::member_count(conn, conversation.id)?;
    let peer = match conversation.kind {
        ConversationKind::Direct => Some(conversations::peer(conn, conversation.id, me)?),
        _ => None,
    };
    let mut view = to_api(conversation, membership, member_count, peer);
    if conversation.kind == ConversationKind::Direct {
        view.request = conversations::request_states(conn, me, &[conversation.id])?
            .get(&conversation.id)
            .map(|s| request_state(*s));
    }
    if let Some(m) = membership {
        let marker = read_markers::marker(conn, conversation.id, me)?.map(|m| m.up_to);
        let unread = read_markers::unread(conn, conversation.id, me, m.joined_at, marker)?;
        set_unread(&mut view, unread);
    }
    Ok(view)
}

/// Fills in the caller's unread state.
pub(crate) fn set_unread(view: &mut Conversation, unread: read_markers::Unread) {
    view.unread_count = unread.count;
    view.unread_capped = unread.capped;
    view.read_up_to = unread.up_to;
}

/// The API form of a message request's state.
pub(crate) fn request_state(s: RequestState) -> api::MessageRequestState {
    match s {
        RequestState::Pending => api::MessageRequestState::Pending,
        RequestState::Declined => api::MessageRequestState::Declined,
    }
}

/// The API form of a conversation. The join token only for its managers.
pub(crate) fn to_api(
    c: &ConversationRow,
    membership: Option<Membership>,
    member_count: u32,
    peer: Option<UserId>,
) -> Conversation {
    let manager = membership.is_some_and(|m| m.role.is_manager());
    Conversation {
        id: c.id,
        kind: match c.kind {
            ConversationKind::Direct => api::ConversationKind::Direct,
            ConversationKind::Group => api::ConversationKind::Group,
            ConversationKind::Link => api::ConversationKind::Link,
        },
        name: c.name.clone(),
        title: c.title.clone(),
        visibility: match c.visibility {
            Visibility::Public => api::GroupVisibility::Public,
            Visibility::Private => api::GroupVisibility::Private,
        },
        add_policy: match c.add_policy {
            AddPolicy::Invite => api::AddPolicy::Invite,
            AddPolicy::Direct => api::AddPolicy::Direct,
        },
        member_cap: c.member_cap,
        member_count,
        role: membership.map(|m| role(m.role)),
        joined_at: membership.map(|m| m.joined_at),
        peer_id: peer.map(|p| p.0),
        join_token: if manager { c.join_token } else { None },
        disappear_secs: c.disappear_secs,
        request: None,
        unread_count: 0,
        unread_capped: false,
        read_up_to: None,
        created_at: c.created_at,
    }
}

pub(crate) fn role(r: Role) -> api::MemberRole {
    match r {
        Role::Owner => api::MemberRole::Owner,
        Role::Admin => api::MemberRole::Admin,
        Role::Member => api::MemberRole::Member,
    }
}

pub(crate) fn visibility(v: api::GroupVisibility) -> Visibility {
    match v {
        api::GroupVisibility::Public => Visibility::Public,
        api::GroupVisibility::Private => Visibility::Private,
    }
}

pub(crate) fn add_policy(p: api::AddPolicy) -> AddPolicy {
    match p {
        api::AddPolicy::Invite => AddPolicy::Invite,
        api::AddPolicy::Direct => AddPolicy::Direct,
    }
}

/// Refuses when the group is full (409 `member_cap_reached`).
pub(crate) fn check_room(conn: &mut DbConn, c: &ConversationRow) -> Result<(), ApiError> {
    if conversations::member_count(conn, c.id)? >= c.member_cap {
        return Err(ApiError::MemberCapReached);
    }
    Ok(())
}

/// Makes `me` a member of the locked group `c` (a public join, a join link
/// or an accepted invitation): checks the cap, adds, consumes any pending
/// invitation, and tells every member (the new one included). The answer
/// and the events to publish.
pub(crate) fn join_now(
    conn: &mut DbConn,
    c: &ConversationRow,
    me: UserId,
    now: DateTime<Utc>,
) -> Result<(Conversation, Vec<StreamEvent>), ApiError> {
    check_room(conn, c)?;
    conversations::add_member(conn, c.id, me, Role::Member, now)?;
    conversations::take_invite(conn, c.id, me)?;
    let mut notes = Notes::default();
    notes.push(
        conversations::member_ids(conn, c.id)?,
        c.id,
        ConversationChange::MemberJoined,
        Subject::of(me, me).with_role(Role::Member),
        now,
    )?;
    let events = notes.append(conn, now)?;
    let membership = conversations::membership(conn, c.id, me)?;
    Ok((view(conn, c, me, membership)?, events))
}

/// Takes `me` out of every group before their account is deleted (in the
/// deletion's transaction): a group they were alone in is deleted; one
/// they owned passes to its longest-standing admin, else member. The
/// remaining members get `member_left` (and `owner_transferred`), as if
/// they had left; direct conversations simply lose the member.
pub(crate) fn depart_all(
    conn: &mut DbConn,
    me: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<StreamEvent>, ApiError> {
    let mut notes = Notes::default();
    for (id, my_role) in conversations::groups_of(conn, me)? {
        if conversations::lock(conn, id)?.is_none() {
            continue;
        }
        let successor = match my_role {
            Role::Owner => conversations::successor(conn, id, me)?,
            _ => None,
        };
        conversations::remove_member(conn, id, me)?;
        let rest = conversations::member_ids(conn, id)?;
        if rest.is_empty() {
            conversations::delete(conn, id)?;
            continue;
        }
        notes.push(
            rest.clone(),
            id,
            ConversationChange::MemberLeft,
            Subject::of(me, me),
            now,
        )?;
        if let Some(next) = successor {
            conversations::set_role(conn, id, next, Role::Owner)?;
            notes.push(
                rest,
                id,
                ConversationChange::OwnerTransferred,
                Subject::of(next, me).with_role(Role::Owner),
                now,
            )?;
        }
    }
    Ok(notes.append(conn, now)?)
}
