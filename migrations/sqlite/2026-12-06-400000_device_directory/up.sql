-- The device directory and per-device message entries; see
-- ../../postgres/2026-12-06-400000_device_directory/up.sql for what each
-- column means. SQLite cannot add a CHECK to an existing table; the store
-- only writes positive numbers.
ALTER TABLE devices ADD COLUMN registration_id INTEGER NOT NULL DEFAULT 1;
UPDATE devices SET registration_id = 1 + (abs(random()) % 16380);
ALTER TABLE users ADD COLUMN share_device_names BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE message_entries (
    message_id BLOB NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    device_id  BLOB NOT NULL,
    blob_id    TEXT NOT NULL,
    PRIMARY KEY (message_id, device_id)
);
CREATE INDEX message_entries_blob_id_idx ON message_entries (blob_id);
