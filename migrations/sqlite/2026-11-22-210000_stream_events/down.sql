CREATE TABLE device_events_old (
    device_id       BLOB NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    kind            SMALLINT NOT NULL,
    message_id      BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    actor_user_id   BLOB,
    actor_device_id BLOB,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
INSERT INTO device_events_old (device_id, seq, kind, message_id, actor_user_id,
    actor_device_id, created_at)
    SELECT device_id, seq, kind, message_id, actor_user_id, actor_device_id, created_at
    FROM device_events
    WHERE message_id IN (SELECT id FROM messages) AND device_id IN (SELECT id FROM devices);
DROP TABLE device_events;
ALTER TABLE device_events_old RENAME TO device_events;
CREATE INDEX device_events_message_id_idx ON device_events (message_id);
CREATE INDEX device_events_created_at_idx ON device_events (created_at);
