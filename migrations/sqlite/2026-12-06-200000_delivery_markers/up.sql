-- Delivery markers; see ../../postgres/2026-12-06-200000_delivery_markers/up.sql
-- for what each column means.
CREATE TABLE delivery_markers (
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      BLOB NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX delivery_markers_user_id_idx ON delivery_markers (user_id);
