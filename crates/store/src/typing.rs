//! Who hears that a user is typing in a conversation: one read, no write
//! (typing is never stored). The audience is the conversation's other
//! members, minus every member the typer blocks or who blocks the typer
//! (either way), minus the addressee of a message request the typer opened
//! (pending or declined: a request stays quiet until it is accepted).
//! Conversations with more members than the caller's cap have no audience.

use diesel::prelude::*;
use uuid::Uuid;

use crate::UserId;
use crate::conn::DbConn;
use crate::conversations::{find_request, membership};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::conversation_members;
use crate::social::blocked_pairs;
use crate::sql_types::Id;

/// Who a typing notice of one user in one conversation goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The conversation does not exist or the user is not a member: the
    /// same answer.
    NotMember,
    /// More members than the cap: typing is not relayed there.
    TooBig,
    /// The other members who may hear it (possibly none).
    Members(Vec<UserId>),
}

/// The audience of `user` typing in `conversation`, where conversations of
/// more than `max_members` members relay nothing.
pub fn audience(
    conn: &mut DbConn,
    conversation: Uuid,
    user: UserId,
    max_members: u32,
) -> StoreResult<Audience> {
    let cap = i64::from(max_members).saturating_add(1);
    let members: Vec<UserId> = conversation_members::table
        .filter(conversation_members::conversation_id.eq(Id(conversation)))
        .select(conversation_members::user_id)
        .limit(cap)
        .load::<Id>(&mut conn.0)
        .db()?
        .into_iter()
        .map(UserId::from)
        .collect();
    if members.len() > max_members as usize {
        // Only the first `max_members + 1` were read: ask for the typer.
        return Ok(if membership(conn, conversation, user)?.is_some() {
            Audience::TooBig
        } else {
            Audience::NotMember
        });
    }
    if !members.contains(&user) {
        return Ok(Audience::NotMember);
    }
    let mut others: Vec<UserId> = members.into_iter().filter(|u| *u != user).collect();
    if others.is_empty() {
        return Ok(Audience::Members(others));
    }
    let blocked = blocked_pairs(conn, user, &others)?;
    others.retain(|u| !blocked.contains(u));
    if let Some(request) = find_request(conn, conversation)?
        && request.requester_id == user
    {
        others.retain(|u| *u != request.addressee_id);
    }
    Ok(Audience::Members(others))
}
