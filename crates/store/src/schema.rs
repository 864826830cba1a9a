//! The diesel schema, kept by hand because `diesel print-schema` emits
//! backend-specific types and this crate needs the shared custom types
//! (`DbUuid`, `DbTimestamp`). Must match both `migrations/` trees;
//! `Store::check_schema_rs` and the schema tests prove it does.

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    users (id) {
        id -> DbUuid,
        username -> Text,
        display_name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        external_issuer -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        created_at -> DbTimestamp,
        updated_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    devices (id) {
        id -> DbUuid,
        user_id -> DbUuid,
        name -> Nullable<Text>,
        platform -> Nullable<Text>,
        external_key -> Nullable<Text>,
        created_at -> DbTimestamp,
        last_seen_at -> Nullable<DbTimestamp>,
        revoked_at -> Nullable<DbTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    refresh_tokens (id) {
        id -> DbUuid,
        user_id -> DbUuid,
        device_id -> DbUuid,
        token_hash -> Binary,
        created_at -> DbTimestamp,
        expires_at -> DbTimestamp,
        used_at -> Nullable<DbTimestamp>,
    }
}

diesel::joinable!(devices -> users (user_id));
diesel::joinable!(refresh_tokens -> devices (device_id));

diesel::allow_tables_to_appear_in_same_query!(users, devices, refresh_tokens);
