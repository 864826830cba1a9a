DROP TABLE blocks;
DROP TABLE contacts;
ALTER TABLE users DROP COLUMN profile_visibility;
ALTER TABLE users DROP COLUMN message_policy;
ALTER TABLE users DROP COLUMN avatar_blob_id;
