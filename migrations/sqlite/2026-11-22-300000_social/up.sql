-- Social graph and privacy: contacts, blocks, and the profile and privacy
-- columns of `users`. Metadata only.
-- Keep in step with ../../postgres/2026-11-22-300000_social/up.sql, which
-- explains each table and column. SQLite forms: ids are 16-byte BLOBs,
-- timestamps fixed-width RFC 3339 TEXT. SQLite cannot add a named table
-- constraint to an existing table, so the CHECKs on `users` are column
-- constraints here (same names, same rules).

ALTER TABLE users ADD COLUMN avatar_blob_id TEXT
    CONSTRAINT users_avatar_blob_id_len
    CHECK (length(avatar_blob_id) BETWEEN 1 AND 128);
ALTER TABLE users ADD COLUMN message_policy TEXT NOT NULL DEFAULT 'everyone'
    CONSTRAINT users_message_policy_check
    CHECK (message_policy IN ('everyone', 'contacts'));
ALTER TABLE users ADD COLUMN profile_visibility TEXT NOT NULL DEFAULT 'everyone'
    CONSTRAINT users_profile_visibility_check
    CHECK (profile_visibility IN ('everyone', 'contacts', 'nobody'));

CREATE TABLE contacts (
    owner_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner_id, contact_id),
    CONSTRAINT contacts_not_self CHECK (owner_id <> contact_id)
);
CREATE INDEX contacts_contact_id_idx ON contacts (contact_id, owner_id);
CREATE INDEX contacts_owner_id_created_at_idx ON contacts (owner_id, created_at, contact_id);

CREATE TABLE blocks (
    blocker_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CONSTRAINT blocks_not_self CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked_id_idx ON blocks (blocked_id, blocker_id);
CREATE INDEX blocks_blocker_id_created_at_idx ON blocks (blocker_id, created_at, blocked_id);
