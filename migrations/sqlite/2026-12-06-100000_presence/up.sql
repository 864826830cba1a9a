-- Presence; see ../../postgres/2026-12-06-100000_presence/up.sql for what
-- each column means.
ALTER TABLE users ADD COLUMN presence_visibility TEXT NOT NULL DEFAULT 'contacts'
    CONSTRAINT users_presence_visibility_check
    CHECK (presence_visibility IN ('everyone', 'contacts', 'nobody'));
ALTER TABLE users ADD COLUMN last_seen_visibility TEXT NOT NULL DEFAULT 'contacts'
    CONSTRAINT users_last_seen_visibility_check
    CHECK (last_seen_visibility IN ('everyone', 'contacts', 'nobody'));
ALTER TABLE users ADD COLUMN invisible BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE presence_sessions (
    connection_id BLOB    PRIMARY KEY,
    user_id       BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node_id       BLOB    NOT NULL,
    away          BOOLEAN NOT NULL DEFAULT 0,
    opened_at     TEXT    NOT NULL,
    closed_at     TEXT
);
CREATE INDEX presence_sessions_user_id_idx ON presence_sessions (user_id, closed_at);
CREATE INDEX presence_sessions_node_id_idx ON presence_sessions (node_id);
CREATE INDEX presence_sessions_closed_at_idx ON presence_sessions (closed_at)
    WHERE closed_at IS NOT NULL;

CREATE TABLE user_presence (
    user_id      BLOB    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT    NOT NULL,
    last_seen_at TEXT,
    updated_at   TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    CONSTRAINT user_presence_status_check CHECK (status IN ('online', 'away', 'offline'))
);
