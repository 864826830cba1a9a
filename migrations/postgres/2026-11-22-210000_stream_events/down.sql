DELETE FROM device_events WHERE message_id IS NULL
    OR message_id NOT IN (SELECT id FROM messages)
    OR device_id NOT IN (SELECT id FROM devices);
ALTER TABLE device_events DROP COLUMN meta;
ALTER TABLE device_events ALTER COLUMN message_id SET NOT NULL;
ALTER TABLE device_events ADD CONSTRAINT device_events_device_id_fkey
    FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE;
ALTER TABLE device_events ADD CONSTRAINT device_events_message_id_fkey
    FOREIGN KEY (message_id) REFERENCES messages (id) ON DELETE CASCADE;
