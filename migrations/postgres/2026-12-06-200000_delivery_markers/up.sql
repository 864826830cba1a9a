-- Delivery markers. Keep in step with
-- ../../sqlite/2026-12-06-200000_delivery_markers/up.sql.
--
-- One row per member and conversation: the server id (UUID v7, so time
-- order) of the newest message from someone else that at least one of the
-- member's devices acknowledged. No time: nothing serves one (a position
-- says how far a member got, not when), so none is kept. Written
-- by the routing core in the acknowledgement's batch, forward only (one
-- row per member and conversation an ack covers, never one per message).
-- With `read_markers`, it answers "delivered to / read by how many" for a
-- message on request: the members whose marker is at or past it.
CREATE TABLE delivery_markers (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Not a foreign key: the message may be retracted or expire; the
    -- position stays.
    message_id      uuid        NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
-- Deleting an account.
CREATE INDEX delivery_markers_user_id_idx ON delivery_markers (user_id);
