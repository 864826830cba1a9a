-- Conversations: direct (one per pair of users), groups (unique name, roles,
-- invitations, join links) and link rooms (joined by holding the link, gone
-- after the last participant leaves). Metadata only.
-- Keep in step with ../../sqlite/2026-11-22-400000_conversations/up.sql.
--
--   direct_key:  'direct' only: "<lower user id>:<higher user id>", unique,
--                so a pair has exactly one direct conversation even when both
--                create it at once.
--   name:        'group' only: the unique handle (lower-case), seed 003.
--   visibility:  'public' groups are found by name and joined freely;
--                'private' ones only by invitation or join link.
--   add_policy:  how a member brings someone in: 'invite' (the invitee
--                accepts or declines) or 'direct' (added at once).
--   join_token:  a private group's revocable join link, or a link room's
--                link (UUID v4); NULL when there is none.
--   disappear_secs: messages expire this long after they are sent.
CREATE TABLE conversations (
    id             uuid        PRIMARY KEY,
    kind           text        NOT NULL,
    direct_key     text,
    name           text,
    title          text,
    visibility     text        NOT NULL DEFAULT 'private',
    add_policy     text        NOT NULL DEFAULT 'invite',
    member_cap     integer     NOT NULL,
    join_token     uuid,
    disappear_secs integer,
    created_by     uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
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

-- Members and their role. `joined_at` bounds what history they may read.
CREATE TABLE conversation_members (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text        NOT NULL,
    joined_at       timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id),
    CONSTRAINT conversation_members_role_check CHECK (role IN ('owner', 'admin', 'member'))
);
-- "My conversations", covering.
CREATE INDEX conversation_members_user_id_idx ON conversation_members (user_id, conversation_id);

-- Pending invitations to groups.
CREATE TABLE conversation_invites (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    invitee_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    inviter_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, invitee_id)
);
CREATE INDEX conversation_invites_invitee_id_idx ON conversation_invites (invitee_id, created_at);

-- History of a conversation, newest first, is read by (conversation_id, id):
-- ids are UUID v7, so id order is time order.
CREATE INDEX messages_conversation_id_idx ON messages (conversation_id, id);
-- A direct message from a user the recipient blocks is kept for the
-- sender's own devices and history only.
ALTER TABLE messages ADD COLUMN withheld boolean NOT NULL DEFAULT false;
