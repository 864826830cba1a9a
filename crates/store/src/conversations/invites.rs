//! Pending invitations to groups: one per (group, invitee), made by a
//! member, gone when the invitee accepts, declines or joins another way, or
//! when the group is deleted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{COLUMNS, ConversationRow, Page, Position, Record, member_counts, page, row};
use crate::UserId;
use crate::conn::{DbConn, on_backend};
use crate::error::{DbResultExt, StoreResult};
use crate::schema::{conversation_invites, conversations};
use crate::sql_types::{Id, Ts};

/// One pending invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteRow {
    pub conversation_id: Uuid,
    pub invitee_id: UserId,
    pub inviter_id: UserId,
    pub created_at: DateTime<Utc>,
}

/// An entry of a user's invitation list: the invitation, its group and how
/// many members the group has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvite {
    pub invite: InviteRow,
    pub conversation: ConversationRow,
    pub member_count: u32,
}

/// Invites `invitee` on behalf of `inviter`; the invitation, and whether
/// this call made it (`false`: one was already pending, which is kept with
/// its inviter and time). `NotFound` when a user or the group is gone.
pub fn invite(
    conn: &mut DbConn,
    conversation: Uuid,
    invitee: UserId,
    inviter: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(InviteRow, bool)> {
    let values = (
        conversation_invites::conversation_id.eq(Id(conversation)),
        conversation_invites::invitee_id.eq(Id::from(invitee)),
        conversation_invites::inviter_id.eq(Id::from(inviter)),
        conversation_invites::created_at.eq(Ts::new(now)),
    );
    let n = conn.guarded(|c| {
        on_backend!(c, |c| diesel::insert_into(conversation_invites::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c))
        .db()
    })?;
    let found = find_invite(conn, conversation, invitee)?.ok_or(crate::StoreError::NotFound)?;
    Ok((found, n > 0))
}

/// The pending invitation of `invitee` to `conversation`, if any.
pub fn find_invite(
    conn: &mut DbConn,
    conversation: Uuid,
    invitee: UserId,
) -> StoreResult<Option<InviteRow>> {
    let found = conversation_invites::table
        .filter(conversation_invites::conversation_id.eq(Id(conversation)))
        .filter(conversation_invites::invitee_id.eq(Id::from(invitee)))
        .select((
            conversation_invites::inviter_id,
            conversation_invites::created_at,
        ))
        .first::<(Id, Ts)>(&mut conn.0)
        .optional()
        .db()?;
    Ok(found.map(|(inviter, at)| InviteRow {
        conversation_id: conversation,
        invitee_id: invitee,
        inviter_id: inviter.into(),
        created_at: at.get(),
    }))
}

/// Removes and returns the pending invitation of `invitee` to
/// `conversation` (accepted, declined, or made moot by joining).
pub fn take_invite(
    conn: &mut DbConn,
    conversation: Uuid,
    invitee: UserId,
) -> StoreResult<Option<InviteRow>> {
    let Some(found) = find_invite(conn, conversation, invitee)? else {
        return Ok(None);
    };
    diesel::delete(
        conversation_invites::table
            .filter(conversation_invites::conversation_id.eq(Id(conversation)))
            .filter(conversation_invites::invitee_id.eq(Id::from(invitee))),
    )
    .execute(&mut conn.0)
    .db()?;
    Ok(Some(found))
}

/// `user`'s pending invitations, oldest first (ties by group id), at most
/// `limit` after `after`.
pub fn list_invites(
    conn: &mut DbConn,
    user: UserId,
    after: Option<Position>,
    limit: u32,
) -> StoreResult<Page<PendingInvite>> {
    let mut query = conversation_invites::table
        .inner_join(conversations::table)
        .filter(conversation_invites::invitee_id.eq(Id::from(user)))
        .select((
            COLUMNS,
            conversation_invites::inviter_id,
            conversation_invites::created_at,
        ))
        .order((
            conversation_invites::created_at.asc(),
            conversation_invites::conversation_id.asc(),
        ))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    if let Some(p) = after {
        let (at, id) = (Ts::new(p.at), Id(p.id));
        query = query.filter(
            conversation_invites::created_at
                .gt(at)
                .or(conversation_invites::created_at
                    .eq(at)
                    .and(conversation_invites::conversation_id.gt(id))),
        );
    }
    let rows = query.load::<(Record, Id, Ts)>(&mut conn.0).db()?;
    let mut items = Vec::with_capacity(rows.len());
    for (r, inviter, at) in rows {
        let conversation = row(r)?;
        items.push(PendingInvite {
            invite: InviteRow {
                conversation_id: conversation.id,
                invitee_id: user,
                inviter_id: inviter.into(),
                created_at: at.get(),
            },
            conversation,
            member_count: 0,
        });
    }
    let mut result = page(items, limit, |p: &PendingInvite| Position {
        at: p.invite.created_at,
        id: p.invite.conversation_id,
    });
    let ids: Vec<Uuid> = result.items.iter().map(|p| p.conversation.id).collect();
    let counts = member_counts(conn, &ids)?;
    for p in &mut result.items {
        p.member_count = counts.get(&p.conversation.id).copied().unwrap_or(0);
    }
    Ok(result)
}
