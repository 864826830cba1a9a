//! What message requests do to a batch's sends, decided in the batch's
//! transaction like blocks (a request declined before the batch is always
//! seen):
//!
//! - the requester's messages in a pending request are delivered (the
//!   addressee's clients show them as a request); in a declined one they
//!   are withheld from the addressee exactly like a block's (`withheld`),
//!   and the requester gets an ordinary `sent` either way;
//! - the addressee sending a message in the conversation accepts the
//!   request: its row goes, and both users' devices get `request_accepted`;
//! - a request opened by this batch (the conversation was created by one
//!   of its sends) is announced to the addressee's devices with
//!   `request_received`, before the message, unless the addressee blocks
//!   the requester (a block wins: nothing is announced).
//!
//! One read of the requests of every conversation the batch sends to, and
//! one delete for the implicit acceptances.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::UserId;
use crate::conn::DbConn;
use crate::conversations::{RequestRow, RequestState, remove_requests, requests_of};
use crate::error::StoreResult;
use crate::sql_types::Id;

/// A conversation event a send causes, appended to the streams in the
/// batch (the caller's [`super::Rules::notice`] writes its payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A new conversation is a request to `addressee`: to their devices.
    RequestReceived {
        conversation: Uuid,
        requester: UserId,
        addressee: UserId,
    },
    /// `addressee` accepted by sending a message: to both users' devices.
    RequestAccepted {
        conversation: Uuid,
        requester: UserId,
        addressee: UserId,
    },
}

impl Notice {
    /// The users whose devices get it.
    pub fn users(&self) -> Vec<UserId> {
        match *self {
            Notice::RequestReceived { addressee, .. } => vec![addressee],
            Notice::RequestAccepted {
                requester,
                addressee,
                ..
            } => vec![requester, addressee],
        }
    }

    fn conversation(&self) -> Uuid {
        match *self {
            Notice::RequestReceived { conversation, .. }
            | Notice::RequestAccepted { conversation, .. } => conversation,
        }
    }
}

/// The requests of a batch's conversations, as its sends change them.
pub(crate) struct Requests {
    open: HashMap<Uuid, RequestRow>,
    /// Conversations created by this batch: their requests are announced.
    created: HashSet<Uuid>,
    accepted: Vec<Id>,
}

impl Requests {
    /// Reads the requests of `conversations`; `created` are the ones this
    /// batch created.
    pub(crate) fn load(
        conn: &mut DbConn,
        conversations: &HashSet<Uuid>,
        created: HashSet<Uuid>,
    ) -> StoreResult<Requests> {
        let ids: Vec<Id> = conversations.iter().map(|c| Id(*c)).collect();
        Ok(Requests {
            open: requests_of(conn, &ids)?,
            created,
            accepted: Vec::new(),
        })
    }

    /// Applies the request of `conversation` (if any) to a send of `sender`
    /// routed to `recipients` (an addressee it withholds the send from moves
    /// to `hidden`); `blocks(a, b)` says whether `a` blocks `b`. Returns the
    /// events the send causes.
    pub(crate) fn route(
        &mut self,
        conversation: Uuid,
        sender: UserId,
        recipients: &mut Vec<UserId>,
        hidden: &mut Vec<UserId>,
        withheld: &mut bool,
        blocks: impl Fn(UserId, UserId) -> bool,
    ) -> Vec<Notice> {
        let Some(request) = self.open.get(&conversation).copied() else {
            return Vec::new();
        };
        let (requester, addressee) = (request.requester_id, request.addressee_id);
        let mut caused = Vec::new();
        if self.created.remove(&conversation)
            && sender == requester
            && request.state == RequestState::Pending
            && !blocks(addressee, requester)
        {
            caused.push(Notice::RequestReceived {
                conversation,
                requester,
                addressee,
            });
        }
        if sender == addressee {
            self.open.remove(&conversation);
            self.accepted.push(Id(conversation));
            caused.push(Notice::RequestAccepted {
                conversation,
                requester,
                addressee,
            });
        } else if sender == requester && request.state == RequestState::Declined {
            if recipients.contains(&addressee) {
                recipients.retain(|u| *u != addressee);
                hidden.push(addressee);
            }
            *withheld = true;
        }
        caused
    }

    /// Deletes the accepted requests, and drops the acceptances another
    /// transaction made first from `notices`.
    pub(crate) fn finish(
        self,
        conn: &mut DbConn,
        notices: &mut HashMap<usize, Vec<Notice>>,
    ) -> StoreResult<()> {
        if self.accepted.is_empty() {
            return Ok(());
        }
        let removed = remove_requests(conn, &self.accepted)?;
        for list in notices.values_mut() {
            list.retain(|n| match n {
                Notice::RequestAccepted { .. } => removed.contains(&n.conversation()),
                Notice::RequestReceived { .. } => true,
            });
        }
        notices.retain(|_, list| !list.is_empty());
        Ok(())
    }
}
