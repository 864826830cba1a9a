-- Blobs: which blob-store objects the gateway granted, to whom, and how far
-- along their life they are. Keep in step with
-- ../../sqlite/2026-12-06-300000_blobs/up.sql.
--
-- Metadata only: the bytes (ciphertext) live in the blob store and never
-- pass through the gateway; no column here holds content or keys.
--   id:          the blob's id in the blob store (the gateway makes it).
--   owner_id:    who may upload it and attach it to a message. No foreign
--                key: a deleted account's blobs are deleted from the blob
--                store by the sweeper, which must still see the rows.
--   purpose:     'message', 'attachment' or 'avatar'.
--   max_bytes:   the size the upload was granted for.
--   sha256:      the digest the uploader declared (lowercase hex), if any.
--   attached_at: when a message first referenced it (null: never sent yet).
--   doomed_at:   when the last message that referenced it was deleted
--                (retracted, expired, its conversation gone): the next sweep
--                deletes it from the blob store.
CREATE TABLE blobs (
    id          text        PRIMARY KEY,
    owner_id    uuid        NOT NULL,
    purpose     text        NOT NULL,
    max_bytes   bigint      NOT NULL,
    sha256      text,
    created_at  timestamptz NOT NULL,
    attached_at timestamptz,
    doomed_at   timestamptz,
    CONSTRAINT blobs_purpose_check CHECK (purpose IN ('message', 'attachment', 'avatar')),
    CONSTRAINT blobs_id_len CHECK (length(id) BETWEEN 1 AND 128)
);
-- The sweeps: by age (orphans, retention) and by attachment time.
CREATE INDEX blobs_created_at_idx ON blobs (created_at);
-- An account's blobs (deleting the account).
CREATE INDEX blobs_owner_id_idx ON blobs (owner_id);
CREATE INDEX blobs_attached_at_idx ON blobs (attached_at) WHERE attached_at IS NOT NULL;
CREATE INDEX blobs_doomed_at_idx ON blobs (doomed_at) WHERE doomed_at IS NOT NULL;
-- Whether an avatar blob is still someone's avatar.
CREATE INDEX users_avatar_blob_id_idx ON users (avatar_blob_id) WHERE avatar_blob_id IS NOT NULL;
-- Who may download a message's blob: the messages that reference it.
CREATE INDEX messages_blob_id_idx ON messages (blob_id) WHERE blob_id IS NOT NULL;
