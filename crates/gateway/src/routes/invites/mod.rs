//! `/v1/invites`: the caller's pending invitations to groups, accepting and
//! declining them. An invitation is the invitee's to answer: accepting
//! makes them a member (the cap still applies), declining tells the
//! inviter and nobody else.

pub mod accept;
pub mod decline;
pub mod list;
