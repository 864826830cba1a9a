-- Routing core: message metadata and every device's durable event stream.
-- Metadata only: no column holds message content, ciphertext or keys.
-- Keep in step with ../../postgres/2026-11-22-200000_streams/up.sql, which
-- explains each table. SQLite forms: ids are 16-byte BLOBs, timestamps
-- fixed-width RFC 3339 TEXT.

CREATE TABLE device_streams (
    device_id BLOB NOT NULL PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    user_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_seq  INTEGER NOT NULL DEFAULT 0,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT device_streams_acked_le_last CHECK (acked_seq <= last_seq)
);
CREATE INDEX device_streams_user_id_idx ON device_streams (user_id);
INSERT INTO device_streams (device_id, user_id) SELECT id, user_id FROM devices;

CREATE TABLE messages (
    id               BLOB NOT NULL PRIMARY KEY,
    message_id       BLOB NOT NULL,
    conversation_id  BLOB,
    sender_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sender_device_id BLOB NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    recipient_id     BLOB REFERENCES users (id) ON DELETE CASCADE,
    message_type     TEXT NOT NULL,
    "timestamp"      TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    reply_to         BLOB,
    blob_id          TEXT,
    is_read          BOOLEAN NOT NULL DEFAULT 0,
    read_at          TEXT,
    created_at       TEXT NOT NULL,
    CONSTRAINT messages_message_id_key UNIQUE (message_id)
);
CREATE INDEX messages_recipient_id_idx ON messages (recipient_id, id);
CREATE INDEX messages_sender_id_idx ON messages (sender_id, id);

CREATE TABLE device_events (
    device_id       BLOB NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    kind            SMALLINT NOT NULL,
    message_id      BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    actor_user_id   BLOB,
    actor_device_id BLOB,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX device_events_message_id_idx ON device_events (message_id);
CREATE INDEX device_events_created_at_idx ON device_events (created_at);
