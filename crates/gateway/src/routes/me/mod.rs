//! `/v1/me`: the caller's account.

mod confirm;
pub mod delete;
pub mod password;
pub mod show;
pub mod update;

use passerelle_api_types::Me;
use passerelle_store::users::UserRow;

pub(crate) fn to_api(row: UserRow) -> Me {
    Me {
        user_id: row.id.0,
        has_password: row.password_hash.is_some(),
        username: row.username,
        display_name: row.display_name,
        created_at: row.created_at,
    }
}
