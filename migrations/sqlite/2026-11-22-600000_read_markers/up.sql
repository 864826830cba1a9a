-- Read markers; see ../../postgres/2026-11-22-600000_read_markers/up.sql
-- for what each column means.
CREATE TABLE read_markers (
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      BLOB NOT NULL,
    read_at         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX read_markers_user_id_idx ON read_markers (user_id);
ALTER TABLE users ADD COLUMN read_receipts BOOLEAN NOT NULL DEFAULT 1;
