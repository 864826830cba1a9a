-- Routing core: message metadata and every device's durable event stream.
-- Metadata only: no column holds message content, ciphertext or keys (the
-- ciphertext is in the blob store; `blob_id` points at it).
-- Keep in step with ../../sqlite/2026-11-22-200000_streams/up.sql.

-- One row per device: the newest sequence handed out in its stream and the
-- newest one it acknowledged. Sequences are allocated under this row's lock,
-- so per device they commit in order.
CREATE TABLE device_streams (
    device_id uuid PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_seq  bigint NOT NULL DEFAULT 0,
    acked_seq bigint NOT NULL DEFAULT 0,
    CONSTRAINT device_streams_acked_le_last CHECK (acked_seq <= last_seq)
);
CREATE INDEX device_streams_user_id_idx ON device_streams (user_id);
INSERT INTO device_streams (device_id, user_id) SELECT id, user_id FROM devices;

-- The seed's message row (id, conversation_id, sender_id, recipient_id,
-- message_type, timestamp, session_id, is_read, read_at) plus what routing
-- needs. `id` is the server's id; `message_id` is the sender's, unique, and
-- makes sends idempotent.
CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    message_id       uuid NOT NULL,
    conversation_id  uuid,
    sender_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_device_id uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    recipient_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    message_type     text NOT NULL,
    "timestamp"      timestamptz NOT NULL,
    session_id       text NOT NULL,
    reply_to         uuid,
    blob_id          text,
    is_read          boolean NOT NULL DEFAULT false,
    read_at          timestamptz,
    created_at       timestamptz NOT NULL,
    CONSTRAINT messages_message_id_key UNIQUE (message_id)
);
CREATE INDEX messages_recipient_id_idx ON messages (recipient_id, id);
CREATE INDEX messages_sender_id_idx ON messages (sender_id, id);

-- Every event a device must see, in its order. kind 1: a message for (or
-- from) the device's user; kind 2: a delivery receipt for a message the
-- user sent (actor = the recipient device that acknowledged it).
CREATE TABLE device_events (
    device_id       uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    kind            smallint NOT NULL,
    message_id      uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    actor_user_id   uuid,
    actor_device_id uuid,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX device_events_message_id_idx ON device_events (message_id);
CREATE INDEX device_events_created_at_idx ON device_events (created_at);
