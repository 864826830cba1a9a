DROP INDEX messages_expires_at_idx;
ALTER TABLE messages DROP COLUMN expires_at;
