//! Message requests ("who can message me"): the rows of `message_requests`.
//!
//! A direct conversation started by a user who is not in the other user's
//! contacts, while that user's `message_policy` is `contacts`, begins as a
//! request to them: [`open`] writes the row in the transaction that creates
//! the conversation (called by `insert_directs`, so the send path and
//! `POST /v1/conversations` both do it, and an existing conversation never
//! becomes a request). The row goes when the addressee accepts ([`accept`]:
//! the conversation is then an ordinary one) and stays as `declined` when
//! they decline ([`decline`]). What a request does to a batch of sends
//! (delivery, withholding, implicit acceptance) is `batch::requests`; who
//! may answer is decided by the gateway.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use passerelle_domain::{MessagePolicy, Relation};
use uuid::Uuid;

use super::{Page, Position, page};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{blocks, contacts, message_requests, users};
use crate::social::{PROFILE_COLUMNS, Profile, ProfileRecord, profile, relations_with};
use crate::sql_types::{Id, Ts};

/// Where a request stands (an accepted one has no row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    /// Waiting for the addressee; the requester's messages are delivered
    /// (as a request).
    Pending,
    /// The addressee declined; the requester's later messages are withheld
    /// from them.
    Declined,
}

impl RequestState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Declined => "declined",
        }
    }

    /// An unknown stored value (impossible under the CHECK) reads as
    /// `Declined`: fail closed, nothing is delivered.
    fn from_stored(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            _ => Self::Declined,
        }
    }
}

/// One message request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRow {
    /// The direct conversation it is about.
    pub conversation_id: Uuid,
    /// Who it is for.
    pub addressee_id: UserId,
    /// Who started the conversation.
    pub requester_id: UserId,
    pub state: RequestState,
    pub created_at: DateTime<Utc>,
}

/// An entry of the addressee's inbox: the request, the requester's profile
/// and how the requester (`a`) and the addressee (`b`) relate, for the
/// profile visibility rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEntry {
    pub request: RequestRow,
    pub requester: Profile,
    pub relation: Relation,
}

type Record = (Id, Id, Id, String, Ts);

type Columns = (
    message_requests::conversation_id,
    message_requests::addressee_id,
    message_requests::requester_id,
    message_requests::state,
    message_requests::created_at,
);

const COLUMNS: Columns = (
    message_requests::conversation_id,
    message_requests::addressee_id,
    message_requests::requester_id,
    message_requests::state,
    message_requests::created_at,
);

fn row(r: Record) -> RequestRow {
    RequestRow {
        conversation_id: r.0.0,
        addressee_id: r.1.into(),
        requester_id: r.2.into(),
        state: RequestState::from_stored(&r.3),
        created_at: r.4.get(),
    }
}

#[derive(Insertable)]
#[diesel(table_name = message_requests, treat_none_as_default_value = false)]
struct NewRequest {
    conversation_id: Id,
    addressee_id: Id,
    requester_id: Id,
    state: &'static str,
    created_at: Ts,
    decided_at: Option<Ts>,
}

/// Opens a pending request for each new direct conversation of `created`
/// (conversation, creator, other user) whose other user has the policy
/// `contacts` and does not have the creator as a contact (never for a
/// conversation with oneself). Two reads and one insert for all of them.
pub(crate) fn open(
    conn: &mut DbConn,
    created: &[(Uuid, UserId, UserId)],
    ts: Ts,
) -> StoreResult<()> {
    let candidates: Vec<&(Uuid, UserId, UserId)> =
        created.iter().filter(|(_, a, b)| a != b).collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let others: Vec<Id> = candidates.iter().map(|(_, _, b)| Id::from(*b)).collect();
    let strict: HashSet<UserId> = on_backend!(conn, |c| users::table
        .filter(users::id.eq_any(&others))
        .filter(users::message_policy.ne(MessagePolicy::Everyone.as_str()))
        .select(users::id)
        .load::<Id>(c))
    .db()?
    .into_iter()
    .map(UserId::from)
    .collect();
    if strict.is_empty() {
        return Ok(());
    }
    let owners: Vec<Id> = strict.iter().map(|u| Id::from(*u)).collect();
    let creators: Vec<Id> = candidates.iter().map(|(_, a, _)| Id::from(*a)).collect();
    let known: HashSet<(UserId, UserId)> = on_backend!(conn, |c| contacts::table
        .filter(contacts::owner_id.eq_any(&owners))
        .filter(contacts::contact_id.eq_any(&creators))
        .select((contacts::owner_id, contacts::contact_id))
        .load::<(Id, Id)>(c))
    .db()?
    .into_iter()
    .map(|(o, c)| (o.into(), c.into()))
    .collect();
    let rows: Vec<NewRequest> = candidates
        .iter()
        .filter(|(_, creator, other)| {
            strict.contains(other) && !known.contains(&(*other, *creator))
        })
        .map(|(conversation, creator, other)| NewRequest {
            conversation_id: Id(*conversation),
            addressee_id: Id::from(*other),
            requester_id: Id::from(*creator),
            state: RequestState::Pending.as_str(),
            created_at: ts,
            decided_at: None,
        })
        .collect();
    if !rows.is_empty() {
        on_backend!(conn, |c| diesel::insert_into(message_requests::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))
        .db()?;
    }
    Ok(())
}

/// The request of `conversation`, if it is one.
pub fn find(conn: &mut DbConn, conversation: Uuid) -> StoreResult<Option<RequestRow>> {
    Ok(message_requests::table
        .filter(message_requests::conversation_id.eq(Id(conversation)))
        .select(COLUMNS)
        .first::<Record>(&mut conn.0)
        .optional()
        .db()?
        .map(row))
}

/// The requests of `ids` (as the send path reads them: one statement).
pub(crate) fn of_conversations(
    conn: &mut DbConn,
    ids: &[Id],
) -> StoreResult<HashMap<Uuid, RequestRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(on_backend!(conn, |c| message_requests::table
        .filter(message_requests::conversation_id.eq_any(ids))
        .select(COLUMNS)
        .load::<Record>(c))
    .db()?
    .into_iter()
    .map(|r| {
        let r = row(r);
        (r.conversation_id, r)
    })
    .collect())
}

/// Where each conversation of `ids` stands as a request to `user` (absent:
/// not a request to them).
pub fn states_for(
    conn: &mut DbConn,
    user: UserId,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, RequestState>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Id> = ids.iter().map(|i| Id(*i)).collect();
    Ok(on_backend!(conn, |c| message_requests::table
        .filter(message_requests::conversation_id.eq_any(&ids))
        .filter(message_requests::addressee_id.eq(Id::from(user)))
        .select((message_requests::conversation_id, message_requests::state))
        .load::<(Id, String)>(c))
    .db()?
    .into_iter()
    .map(|(id, s)| (id.0, RequestState::from_stored(&s)))
    .collect())
}

/// Accepts the request of `conversation` to `addressee` (pending or
/// declined): the row goes and the conversation is an ordinary one. The
/// request, or `None` when there is none to `addressee` (a concurrent
/// acceptance included).
pub fn accept(
    conn: &mut DbConn,
    conversation: Uuid,
    addressee: UserId,
) -> StoreResult<Option<RequestRow>> {
    let rows = on_backend!(conn, |c| diesel::delete(
        message_requests::table
            .filter(message_requests::conversation_id.eq(Id(conversation)))
            .filter(message_requests::addressee_id.eq(Id::from(addressee))),
    )
    .returning(COLUMNS)
    .get_results::<Record>(c))
    .db()?;
    Ok(rows.into_iter().next().map(row))
}

/// Declines the request of `conversation` to `addressee`: the request and
/// whether this call declined it (`false`: it already was). `None` when
/// there is no request to `addressee`.
pub fn decline(
    conn: &mut DbConn,
    conversation: Uuid,
    addressee: UserId,
    now: DateTime<Utc>,
) -> StoreResult<Option<(RequestRow, bool)>> {
    let changed = diesel::update(
        message_requests::table
            .filter(message_requests::conversation_id.eq(Id(conversation)))
            .filter(message_requests::addressee_id.eq(Id::from(addressee)))
            .filter(message_requests::state.eq(RequestState::Pending.as_str())),
    )
    .set((
        message_requests::state.eq(RequestState::Declined.as_str()),
        message_requests::decided_at.eq(Some(Ts::new(now))),
    ))
    .execute(&mut conn.0)
    .db()?;
    Ok(find(conn, conversation)?
        .filter(|r| r.addressee_id == addressee)
        .map(|r| (r, changed > 0)))
}

/// Deletes the requests of `ids` (accepted by their addressee sending a
/// message); returns the conversations whose request this removed.
pub(crate) fn remove(conn: &mut DbConn, ids: &[Id]) -> StoreResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(on_backend!(conn, |c| diesel::delete(
        message_requests::table.filter(message_requests::conversation_id.eq_any(ids)),
    )
    .returning(message_requests::conversation_id)
    .get_results::<Id>(c))
    .db()?
    .into_iter()
    .map(|i| i.0)
    .collect())
}

/// `user`'s pending requests, oldest first (ties by conversation id), at
/// most `limit` after `after`, with the requesters' profiles. Requests from
/// users `user` blocks are left out (a block wins: they are neither
/// announced nor listed while it lasts).
pub fn list_requests(
    conn: &mut DbConn,
    user: UserId,
    after: Option<Position>,
    limit: u32,
) -> StoreResult<Page<RequestEntry>> {
    let me = Id::from(user);
    let mut query = message_requests::table
        .inner_join(users::table.on(users::id.eq(message_requests::requester_id)))
        .filter(message_requests::addressee_id.eq(me))
        .filter(message_requests::state.eq(RequestState::Pending.as_str()))
        .filter(not(exists(
            blocks::table
                .filter(blocks::blocker_id.eq(me))
                .filter(blocks::blocked_id.eq(message_requests::requester_id)),
        )))
        .select((COLUMNS, PROFILE_COLUMNS))
        .order((
            message_requests::created_at.asc(),
            message_requests::conversation_id.asc(),
        ))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(p) = after {
        let (at, id) = (Ts::new(p.at), Id(p.id));
        query = query.filter(
            message_requests::created_at
                .gt(at)
                .or(message_requests::created_at
                    .eq(at)
                    .and(message_requests::conversation_id.gt(id))),
        );
    }
    let rows = query.load::<(Record, ProfileRecord)>(&mut conn.0).db()?;
    let items: Vec<(RequestRow, Profile)> = rows
        .into_iter()
        .map(|(r, p)| (row(r), profile(p)))
        .collect();
    let result = page(items, limit, |(r, _): &(RequestRow, Profile)| Position {
        at: r.created_at,
        id: r.conversation_id,
    });
    let others: Vec<UserId> = result.items.iter().map(|(r, _)| r.requester_id).collect();
    let relations = relations_with(conn, user, &others)?;
    Ok(Page {
        items: result
            .items
            .into_iter()
            .map(|(request, requester)| RequestEntry {
                relation: relations
                    .get(&request.requester_id)
                    .copied()
                    .unwrap_or_default(),
                request,
                requester,
            })
            .collect(),
        next: result.next,
    })
}
