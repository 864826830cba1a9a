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
        avatar_blob_id -> Nullable<Text>,
        message_policy -> Text,
        profile_visibility -> Text,
        read_receipts -> Bool,
        presence_visibility -> Text,
        last_seen_visibility -> Text,
        invisible -> Bool,
        share_device_names -> Bool,
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
        registration_id -> Integer,
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

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::DbUuid;

    device_streams (device_id) {
        device_id -> DbUuid,
        user_id -> DbUuid,
        last_seq -> BigInt,
        acked_seq -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    messages (id) {
        id -> DbUuid,
        message_id -> DbUuid,
        conversation_id -> Nullable<DbUuid>,
        sender_id -> DbUuid,
        sender_device_id -> DbUuid,
        recipient_id -> Nullable<DbUuid>,
        message_type -> Text,
        timestamp -> DbTimestamp,
        session_id -> Text,
        reply_to -> Nullable<DbUuid>,
        blob_id -> Nullable<Text>,
        is_read -> Bool,
        read_at -> Nullable<DbTimestamp>,
        created_at -> DbTimestamp,
        withheld -> Bool,
        expires_at -> Nullable<DbTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    device_events (device_id, seq) {
        device_id -> DbUuid,
        seq -> BigInt,
        kind -> SmallInt,
        message_id -> Nullable<DbUuid>,
        actor_user_id -> Nullable<DbUuid>,
        actor_device_id -> Nullable<DbUuid>,
        created_at -> DbTimestamp,
        meta -> Nullable<Text>,
    }
}

diesel::joinable!(device_events -> messages (message_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::DbUuid;

    message_entries (message_id, device_id) {
        message_id -> DbUuid,
        device_id -> DbUuid,
        blob_id -> Text,
    }
}

diesel::joinable!(message_entries -> messages (message_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    contacts (owner_id, contact_id) {
        owner_id -> DbUuid,
        contact_id -> DbUuid,
        created_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    blocks (blocker_id, blocked_id) {
        blocker_id -> DbUuid,
        blocked_id -> DbUuid,
        created_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    conversations (id) {
        id -> DbUuid,
        kind -> Text,
        direct_key -> Nullable<Text>,
        name -> Nullable<Text>,
        title -> Nullable<Text>,
        visibility -> Text,
        add_policy -> Text,
        member_cap -> Integer,
        join_token -> Nullable<DbUuid>,
        disappear_secs -> Nullable<Integer>,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTimestamp,
        updated_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    conversation_members (conversation_id, user_id) {
        conversation_id -> DbUuid,
        user_id -> DbUuid,
        role -> Text,
        joined_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    conversation_invites (conversation_id, invitee_id) {
        conversation_id -> DbUuid,
        invitee_id -> DbUuid,
        inviter_id -> DbUuid,
        created_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    room_presence (conversation_id, connection_id) {
        conversation_id -> DbUuid,
        connection_id -> DbUuid,
        user_id -> DbUuid,
        node_id -> DbUuid,
        entered_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    gateway_nodes (id) {
        id -> DbUuid,
        seen_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    message_requests (conversation_id) {
        conversation_id -> DbUuid,
        addressee_id -> DbUuid,
        requester_id -> DbUuid,
        state -> Text,
        created_at -> DbTimestamp,
        decided_at -> Nullable<DbTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    game_invites (message_id) {
        message_id -> DbUuid,
        conversation_id -> DbUuid,
        inviter_id -> DbUuid,
        invitee_id -> DbUuid,
        game_id -> Text,
        state -> Text,
        created_at -> DbTimestamp,
        expires_at -> DbTimestamp,
        decided_at -> Nullable<DbTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    read_markers (conversation_id, user_id) {
        conversation_id -> DbUuid,
        user_id -> DbUuid,
        message_id -> DbUuid,
        read_at -> DbTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    presence_sessions (connection_id) {
        connection_id -> DbUuid,
        user_id -> DbUuid,
        node_id -> DbUuid,
        away -> Bool,
        opened_at -> DbTimestamp,
        closed_at -> Nullable<DbTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    user_presence (user_id) {
        user_id -> DbUuid,
        status -> Text,
        last_seen_at -> Nullable<DbTimestamp>,
        updated_at -> DbTimestamp,
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{DbTimestamp, DbUuid};

    blobs (id) {
        id -> Text,
        owner_id -> DbUuid,
        purpose -> Text,
        max_bytes -> BigInt,
        sha256 -> Nullable<Text>,
        created_at -> DbTimestamp,
        attached_at -> Nullable<DbTimestamp>,
        doomed_at -> Nullable<DbTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::DbUuid;

    delivery_markers (conversation_id, user_id) {
        conversation_id -> DbUuid,
        user_id -> DbUuid,
        message_id -> DbUuid,
    }
}

diesel::joinable!(read_markers -> conversations (conversation_id));
diesel::joinable!(delivery_markers -> conversations (conversation_id));
diesel::joinable!(conversation_members -> conversations (conversation_id));
diesel::joinable!(room_presence -> conversations (conversation_id));
diesel::joinable!(message_requests -> conversations (conversation_id));
diesel::joinable!(conversation_invites -> conversations (conversation_id));

// Both tables point at `users` twice; the listing queries join on the
// "other" side (`contact_id`, `blocked_id`) explicitly.
diesel::joinable!(contacts -> users (contact_id));
diesel::joinable!(blocks -> users (blocked_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    devices,
    refresh_tokens,
    device_streams,
    messages,
    device_events,
    message_entries,
    contacts,
    blocks,
    conversations,
    conversation_members,
    conversation_invites,
    room_presence,
    gateway_nodes,
    message_requests,
    game_invites,
    read_markers,
    presence_sessions,
    user_presence,
    blobs,
    delivery_markers
);
