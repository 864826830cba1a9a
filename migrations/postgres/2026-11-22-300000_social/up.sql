-- Social graph and privacy: contacts, blocks, and the profile and privacy
-- columns of `users`. Metadata only: `avatar_blob_id` is an opaque reference
-- into the blob store (the image itself, encrypted or not, never comes here).
-- Keep in step with ../../sqlite/2026-11-22-300000_social/up.sql.

-- Profile and privacy settings of an account.
--   avatar_blob_id:     1..=128 of [A-Za-z0-9_-] (the charset is checked by
--                       the gateway, the length here too).
--   message_policy:     who may start a direct conversation ('everyone' or
--                       'contacts': only users the account has as contacts);
--                       enforced by the send path.
--   profile_visibility: who may look the profile up by username
--                       ('everyone', 'contacts', 'nobody'; the owner always).
ALTER TABLE users
    ADD COLUMN avatar_blob_id text,
    ADD COLUMN message_policy text NOT NULL DEFAULT 'everyone',
    ADD COLUMN profile_visibility text NOT NULL DEFAULT 'everyone',
    ADD CONSTRAINT users_avatar_blob_id_len
        CHECK (length(avatar_blob_id) BETWEEN 1 AND 128),
    ADD CONSTRAINT users_message_policy_check
        CHECK (message_policy IN ('everyone', 'contacts')),
    ADD CONSTRAINT users_profile_visibility_check
        CHECK (profile_visibility IN ('everyone', 'contacts', 'nobody'));

-- `owner_id` has `contact_id` in its contact list. One direction only: the
-- other user is not told and need not reciprocate.
CREATE TABLE contacts (
    owner_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner_id, contact_id),
    CONSTRAINT contacts_not_self CHECK (owner_id <> contact_id)
);
-- "Who has me as a contact" (visibility checks, the send path): covering, so
-- the reverse lookup of a pair never touches the table.
CREATE INDEX contacts_contact_id_idx ON contacts (contact_id, owner_id);
-- Keyset pagination of one owner's list, in (created_at, contact_id) order.
CREATE INDEX contacts_owner_id_created_at_idx ON contacts (owner_id, created_at, contact_id);

-- `blocker_id` blocks `blocked_id`. The blocked user is never told.
CREATE TABLE blocks (
    blocker_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CONSTRAINT blocks_not_self CHECK (blocker_id <> blocked_id)
);
-- "Who blocks me" (the send path checks both directions), covering.
CREATE INDEX blocks_blocked_id_idx ON blocks (blocked_id, blocker_id);
CREATE INDEX blocks_blocker_id_created_at_idx ON blocks (blocker_id, created_at, blocked_id);
