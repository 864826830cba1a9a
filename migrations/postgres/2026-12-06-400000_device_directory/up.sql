-- The device directory and per-device message entries (issue 7). Keep in
-- step with ../../sqlite/2026-12-06-400000_device_directory/up.sql.
--
--   devices.registration_id: the device's registration number (1..2^31-1):
--       set when the device is created (chosen by the client, or picked in
--       1..16380 by the server) and changed when the device re-registers.
--       Existing devices get a picked one.
--   users.share_device_names: whether the device directory shows this
--       user's device names to others (default: no names).
--   message_entries: which blob a per-device send addressed to which device
--       (metadata only: a reference, never the bytes). Who may download
--       such a blob (the addressed device) and when it is deleted (with its
--       message) are read here; the device's stream event carries the same
--       entry for delivery.
ALTER TABLE devices ADD COLUMN registration_id integer NOT NULL DEFAULT 1;
UPDATE devices SET registration_id = 1 + floor(random() * 16380)::integer;
ALTER TABLE devices ALTER COLUMN registration_id DROP DEFAULT;
ALTER TABLE devices ADD CONSTRAINT devices_registration_id_check CHECK (registration_id > 0);
ALTER TABLE users ADD COLUMN share_device_names boolean NOT NULL DEFAULT false;

CREATE TABLE message_entries (
    message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    device_id  uuid NOT NULL,
    blob_id    text NOT NULL,
    PRIMARY KEY (message_id, device_id)
);
-- Who may download a per-device blob, and whether another message still
-- references it.
CREATE INDEX message_entries_blob_id_idx ON message_entries (blob_id);
