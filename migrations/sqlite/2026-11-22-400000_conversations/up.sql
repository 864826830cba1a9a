-- Conversations; see ../../postgres/2026-11-22-400000_conversations/up.sql
-- for what each column means.
CREATE TABLE conversations (
    id             BLOB    NOT NULL PRIMARY KEY,
    kind           TEXT    NOT NULL,
    direct_key     TEXT,
    name           TEXT,
    title          TEXT,
    visibility     TEXT    NOT NULL DEFAULT 'private',
    add_policy     TEXT    NOT NULL DEFAULT 'invite',
    member_cap     INTEGER NOT NULL,
    join_token     BLOB,
    disappear_secs INTEGER,
    created_by     BLOB    REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    CONSTRAINT conversations_direct_key_key UNIQUE (direct_key),
    CONSTRAINT conversations_name_key UNIQUE (name),
    CONSTRAINT conversations_join_token_key UNIQUE (join_token),
    CONSTRAINT conversations_kind_check CHECK (kind IN ('direct', 'group', 'link')),
    CONSTRAINT conversations_direct_key_check CHECK ((kind = 'direct') = (direct_key IS NOT NULL)),
    CONSTRAINT conversations_name_check CHECK ((kind = 'group') = (name IS NOT NULL)),
    CONSTRAINT conversations_visibility_check CHECK (visibility IN ('public', 'private')),
    CONSTRAINT conversations_add_policy_check CHECK (add_policy IN ('invite', 'direct')),
    CONSTRAINT conversations_member_cap_check CHECK (member_cap >= 2),
    CONSTRAINT conversations_disappear_secs_check CHECK (disappear_secs > 0)
);

CREATE TABLE conversation_members (
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    joined_at       TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id),
    CONSTRAINT conversation_members_role_check CHECK (role IN ('owner', 'admin', 'member'))
);
CREATE INDEX conversation_members_user_id_idx ON conversation_members (user_id, conversation_id);

CREATE TABLE conversation_invites (
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    invitee_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inviter_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, invitee_id)
);
CREATE INDEX conversation_invites_invitee_id_idx ON conversation_invites (invitee_id, created_at);

CREATE INDEX messages_conversation_id_idx ON messages (conversation_id, id);
ALTER TABLE messages ADD COLUMN withheld BOOLEAN NOT NULL DEFAULT 0;
