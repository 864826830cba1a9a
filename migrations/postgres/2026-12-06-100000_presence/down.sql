DROP TABLE user_presence;
DROP TABLE presence_sessions;
ALTER TABLE users
    DROP COLUMN invisible,
    DROP COLUMN last_seen_visibility,
    DROP COLUMN presence_visibility;
