-- Stream events without foreign keys, and events that are not about one
-- stored message; see ../../postgres/2026-11-22-210000_stream_events/up.sql
-- for why. SQLite cannot drop a constraint, so the table is rebuilt.
CREATE TABLE device_events_new (
    device_id       BLOB NOT NULL,
    seq             INTEGER NOT NULL,
    kind            SMALLINT NOT NULL,
    message_id      BLOB,
    actor_user_id   BLOB,
    actor_device_id BLOB,
    created_at      TEXT NOT NULL,
    meta            TEXT,
    PRIMARY KEY (device_id, seq)
);
INSERT INTO device_events_new (device_id, seq, kind, message_id, actor_user_id,
    actor_device_id, created_at)
    SELECT device_id, seq, kind, message_id, actor_user_id, actor_device_id, created_at
    FROM device_events;
DROP TABLE device_events;
ALTER TABLE device_events_new RENAME TO device_events;
CREATE INDEX device_events_message_id_idx ON device_events (message_id);
CREATE INDEX device_events_created_at_idx ON device_events (created_at);
