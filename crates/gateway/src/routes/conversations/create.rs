//! `POST /v1/conversations`: the pair's direct conversation (found or
//! created), or a new group owned by the caller.

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use passerelle_api_types::ws::ConversationChange;
use passerelle_api_types::{CreateConversationRequest, CreateGroup, ErrorBody};
use passerelle_domain::{AddPolicy, GroupName, GroupTitle, Role, UserId, check_member_cap};
use passerelle_store::conversations::{self, NewGroup};
use passerelle_store::{DbConn, social, users};

use super::{Notes, Subject, add_policy, atomically, publish, view, visibility};
use crate::authn::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// With `{"kind": "direct", "userId"}`: the caller's direct conversation
/// with that user, the one the send path uses (201 when this call created
/// it, 200 when it existed). With `{"kind": "group", ...}`: a new group
/// whose owner is the caller (201); `members` are invited, or added when
/// `addPolicy` is `direct`.
#[utoipa::path(
    post, path = "/v1/conversations", operation_id = "create_conversation", tag = "conversations",
    security(("bearer" = [])),
    request_body = CreateConversationRequest,
    responses(
        (status = 201, description = "Created", body = passerelle_api_types::Conversation),
        (status = 200, description = "The pair's direct conversation already existed", body = passerelle_api_types::Conversation),
        (status = 404, description = "Direct: no such user, or a user who blocks the caller; the same answer (`not_found`)", body = ErrorBody),
        (status = 409, description = "Group: the name is taken (`name_taken`), or more `members` than `memberCap` allows with `addPolicy: direct` (`member_cap_reached`)", body = ErrorBody),
        (status = 422, description = "A malformed name or title, a member cap out of range, more than 100 `members` (`validation_failed`)", body = ErrorBody),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateConversationRequest>,
) -> Result<HttpResponse, ApiError> {
    let me = caller.user_id;
    let now = passerelle_store::now();
    let (conversation, created, events) = match body.into_inner() {
        CreateConversationRequest::Direct(d) => {
            let them = UserId(d.user_id);
            atomically(&state, move |conn| direct(conn, me, them, now)).await?
        }
        CreateConversationRequest::Group(g) => {
            let group = checked(g, &state)?;
            let (c, events) =
                atomically(&state, move |conn| create_group(conn, me, group, now)).await?;
            (c, true, events)
        }
    };
    publish(&state, &events).await;
    Ok(if created {
        HttpResponse::Created().json(conversation)
    } else {
        HttpResponse::Ok().json(conversation)
    })
}

type Created = (
    passerelle_api_types::Conversation,
    bool,
    Vec<passerelle_store::streams::StreamEvent>,
);

/// The direct conversation. An existing one is returned even if `them`
/// blocks `me` since (the block is not revealed, as for contacts); a new
/// one is refused when `them` does not exist or blocks `me`. Only the
/// creator's devices hear of a new one (`created`): the other user learns
/// of it from its first message (or their list), not from an event, unless
/// it is a message request to them (`request_received`).
fn direct(
    conn: &mut DbConn,
    me: UserId,
    them: UserId,
    now: DateTime<Utc>,
) -> Result<Created, ApiError> {
    if let Some(c) = conversations::find_direct_of(conn, me, them)? {
        let membership = conversations::membership(conn, c.id, me)?;
        return Ok((super::view(conn, &c, me, membership)?, false, Vec::new()));
    }
    if social::profile_by_id(conn, them)?.is_none() {
        return Err(ApiError::NotFound);
    }
    if them != me && social::relation(conn, them, me)?.a_blocked_b {
        return Err(ApiError::NotFound);
    }
    let (c, created) = conversations::direct(conn, me, them, now)?;
    let mut notes = Notes::default();
    if created {
        notes.push(
            vec![me],
            c.id,
            ConversationChange::Created,
            Subject::by(me),
            now,
        )?;
        // `them` asked for requests from non-contacts: this conversation is
        // one. At most once per pair (a pair's conversation is made once), so
        // it is no stronger a ping than a first message.
        if let Some(request) = conversations::find_request(conn, c.id)? {
            notes.push(
                vec![request.addressee_id],
                c.id,
                ConversationChange::RequestReceived,
                Subject::of(request.requester_id, request.requester_id),
                now,
            )?;
        }
    }
    let events = notes.append(conn, now)?;
    let membership = conversations::membership(conn, c.id, me)?;
    Ok((view(conn, &c, me, membership)?, created, events))
}

/// A group request with its values checked.
struct Group {
    name: GroupName,
    title: Option<GroupTitle>,
    visibility: passerelle_domain::Visibility,
    add_policy: AddPolicy,
    member_cap: u32,
    members: Vec<UserId>,
}

fn checked(g: CreateGroup, state: &AppState) -> Result<Group, ApiError> {
    let caps = &state.settings.conversations;
    if g.members.len() > CreateGroup::MAX_MEMBERS {
        return Err(ApiError::Validation(format!(
            "members: at most {} users",
            CreateGroup::MAX_MEMBERS
        )));
    }
    Ok(Group {
        name: GroupName::parse(&g.name)?,
        title: g.title.as_deref().map(GroupTitle::parse).transpose()?,
        visibility: g.visibility.map(visibility).unwrap_or_default(),
        add_policy: g.add_policy.map(add_policy).unwrap_or_default(),
        member_cap: check_member_cap(
            g.member_cap.unwrap_or(caps.default_member_cap),
            caps.max_member_cap,
        )?,
        members: g.members.into_iter().map(UserId).collect(),
    })
}

/// Creates the group, then brings in `members`: unknown ids, the caller,
/// repeats, users who block the caller and users the caller blocks are
/// left out without a word (the same as an id that names nobody). Every
/// initial member gets `created`; each invitation `member_invited` (to the
/// members and the invitee).
fn create_group(
    conn: &mut DbConn,
    me: UserId,
    g: Group,
    now: DateTime<Utc>,
) -> Result<
    (
        passerelle_api_types::Conversation,
        Vec<passerelle_store::streams::StreamEvent>,
    ),
    ApiError,
> {
    let new = NewGroup {
        name: g.name.as_str(),
        title: g.title.as_ref().map(GroupTitle::as_str),
        visibility: g.visibility,
        add_policy: g.add_policy,
        member_cap: g.member_cap,
        owner: me,
        now,
    };
    let id = conversations::create_group(conn, &new)?.ok_or(ApiError::NameTaken)?;
    let mut seen = HashSet::from([me]);
    let wanted: Vec<UserId> = g.members.into_iter().filter(|u| seen.insert(*u)).collect();
    let exists = users::existing(conn, &wanted)?;
    let blocked = social::blocked_pairs(conn, me, &wanted)?;
    let brought: Vec<UserId> = wanted
        .into_iter()
        .filter(|u| exists.contains(u) && !blocked.contains(u))
        .collect();

    let mut members = vec![me];
    let mut invited = Vec::new();
    match g.add_policy {
        AddPolicy::Direct => {
            if brought.len() + 1 > g.member_cap as usize {
                return Err(ApiError::MemberCapReached);
            }
            for u in &brought {
                conversations::add_member(conn, id, *u, Role::Member, now)?;
            }
            members.extend(brought);
        }
        AddPolicy::Invite => {
            for u in &brought {
                conversations::invite(conn, id, *u, me, now)?;
            }
            invited = brought;
        }
    }
    let mut notes = Notes::default();
    notes.push(
        members.clone(),
        id,
        ConversationChange::Created,
        Subject::by(me),
        now,
    )?;
    for u in invited {
        let mut to = members.clone();
        to.push(u);
        notes.push(
            to,
            id,
            ConversationChange::MemberInvited,
            Subject::of(u, me),
            now,
        )?;
    }
    let events = notes.append(conn, now)?;
    let c = conversations::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let membership = conversations::membership(conn, id, me)?;
    Ok((view(conn, &c, me, membership)?, events))
}
