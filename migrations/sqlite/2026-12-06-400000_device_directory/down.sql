DROP TABLE message_entries;
ALTER TABLE users DROP COLUMN share_device_names;
ALTER TABLE devices DROP COLUMN registration_id;
