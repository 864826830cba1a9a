-- Stream events without foreign keys, and events that are not about one
-- stored message. Keep in step with ../../sqlite/2026-11-22-210000_stream_events/up.sql.
--
-- `device_events` is the hottest table: every message writes one row per
-- recipient device and per own device, every acknowledgement one per
-- sender device. Its two foreign keys cost two trigger queries per row on
-- insert (most of the insert's time under load), so they go; the store
-- deletes a device's and a message's events itself (account deletion,
-- message deletion), and the retention sweep removes anything left over.
-- Replay joins `messages`, so an event whose message is gone is never
-- shown.
--
-- `message_id` becomes optional and `meta` holds the metadata of events
-- that are not a stored message (membership changes, retractions, ...):
-- JSON, metadata only, never content.
ALTER TABLE device_events DROP CONSTRAINT device_events_device_id_fkey;
ALTER TABLE device_events DROP CONSTRAINT device_events_message_id_fkey;
ALTER TABLE device_events ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE device_events ADD COLUMN meta text;
