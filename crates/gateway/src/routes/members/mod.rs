//! `/v1/conversations/{id}/members` and `/v1/conversations/{id}/owner`: a
//! conversation's members, bringing users in, leaving and removing, roles
//! and ownership. Who may do what is `passerelle_domain::Role`'s rules;
//! the 404-or-403 rule and the transaction-with-events pattern are in
//! [`super::conversations`].

pub mod add;
pub mod list;
pub mod remove;
pub mod set_role;
pub mod transfer_owner;

use passerelle_api_types::Member;
use passerelle_domain::UserId;
use passerelle_store::conversations::Membership;
use passerelle_store::{DbConn, users};

use crate::error::ApiError;

/// The API form of `user`'s membership.
pub(crate) fn member(
    conn: &mut DbConn,
    user: UserId,
    membership: Membership,
) -> Result<Member, ApiError> {
    let found = users::find(conn, user)?.ok_or(ApiError::NotFound)?;
    Ok(Member {
        user_id: user.0,
        username: found.username,
        role: super::conversations::role(membership.role),
        joined_at: membership.joined_at,
    })
}
