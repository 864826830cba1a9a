-- Presence: who is online, away or offline, and who may see it.
-- Keep in step with ../../sqlite/2026-12-06-100000_presence/up.sql.
--
-- Presence settings of an account (`PATCH /v1/me`):
--   presence_visibility:  who sees whether the user is online, away or
--                         offline ('everyone', 'contacts': users the account
--                         has as contacts, 'nobody').
--   last_seen_visibility: who, among those, also sees when the user was
--                         last online.
--   invisible:            appear offline to everyone while connected.
ALTER TABLE users
    ADD COLUMN presence_visibility text NOT NULL DEFAULT 'contacts',
    ADD COLUMN last_seen_visibility text NOT NULL DEFAULT 'contacts',
    ADD COLUMN invisible boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT users_presence_visibility_check
        CHECK (presence_visibility IN ('everyone', 'contacts', 'nobody')),
    ADD CONSTRAINT users_last_seen_visibility_check
        CHECK (last_seen_visibility IN ('everyone', 'contacts', 'nobody'));

-- One row per live (or just closed) WebSocket session: what the user's
-- presence is computed from, on every node.
--   connection_id: the session (`ready.connectionId`).
--   node_id:       the gateway node serving it; rows of a node with no live
--                  `gateway_nodes` row are closed by the other nodes'
--                  sweepers (a crashed node cannot close its own).
--   away:          the session said the user is away (`presence` frame).
--   closed_at:     when the session ended. The row still counts for
--                  `presence.offline_grace_ms` after that, so a connection
--                  that drops and comes back is never announced offline;
--                  then a sweeper settles the user's presence and deletes it.
CREATE TABLE presence_sessions (
    connection_id uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node_id       uuid        NOT NULL,
    away          boolean     NOT NULL DEFAULT false,
    opened_at     timestamptz NOT NULL,
    closed_at     timestamptz
);
-- A user's sessions (settling), and the online watchers of a presence
-- change: `contacts (contact_id, owner_id)` joined here on `user_id`.
CREATE INDEX presence_sessions_user_id_idx ON presence_sessions (user_id, closed_at);
-- The sweep of a dead node's sessions.
CREATE INDEX presence_sessions_node_id_idx ON presence_sessions (node_id);
-- The sweep of sessions whose grace is over: only closed rows are indexed.
CREATE INDEX presence_sessions_closed_at_idx ON presence_sessions (closed_at)
    WHERE closed_at IS NOT NULL;

-- The presence others are shown (after `invisible`), one row per user who
-- ever connected; what was last announced.
--   status:       'online', 'away' or 'offline'.
--   last_seen_at: when the user was last connected (set when the status
--                 becomes 'offline'; null until then).
--   version:      increases with every announcement about the user, so
--                 clients keep the newest when two arrive out of order.
CREATE TABLE user_presence (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status       text        NOT NULL,
    last_seen_at timestamptz,
    updated_at   timestamptz NOT NULL,
    version      bigint      NOT NULL,
    CONSTRAINT user_presence_status_check CHECK (status IN ('online', 'away', 'offline'))
);
