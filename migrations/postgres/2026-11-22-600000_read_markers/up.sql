-- Read markers. Keep in step with
-- ../../sqlite/2026-11-22-600000_read_markers/up.sql.
--
-- One row per member who marked a conversation read: the server id (UUID
-- v7, so time order) of the newest message they have read, and when. It
-- only moves forward. Unread counts are an index range scan of
-- `messages (conversation_id, id)` after `message_id`.
--   users.read_receipts: whether the peer of a direct conversation is told
--                        when this user reads (their own devices always are).
CREATE TABLE read_markers (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Not a foreign key: the message may be retracted or expire; the
    -- position stays.
    message_id      uuid        NOT NULL,
    read_at         timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
-- Deleting an account.
CREATE INDEX read_markers_user_id_idx ON read_markers (user_id);
ALTER TABLE users ADD COLUMN read_receipts boolean NOT NULL DEFAULT true;
