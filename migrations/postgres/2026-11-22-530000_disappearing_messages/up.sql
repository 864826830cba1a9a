-- Disappearing messages. Keep in step with
-- ../../sqlite/2026-11-22-530000_disappearing_messages/up.sql.
--
-- A message sent while its conversation has a timer (`disappear_secs`)
-- expires at `expires_at`; the expiry sweeper deletes it and its stream
-- events in bounded batches, reading this partial index in expiry order
-- (only messages that expire are in it).
ALTER TABLE messages ADD COLUMN expires_at timestamptz;
CREATE INDEX messages_expires_at_idx ON messages (expires_at) WHERE expires_at IS NOT NULL;
