DROP TABLE user_presence;
DROP TABLE presence_sessions;
ALTER TABLE users DROP COLUMN invisible;
ALTER TABLE users DROP COLUMN last_seen_visibility;
ALTER TABLE users DROP COLUMN presence_visibility;
