DROP INDEX users_avatar_blob_id_idx;
DROP INDEX messages_blob_id_idx;
DROP TABLE blobs;
