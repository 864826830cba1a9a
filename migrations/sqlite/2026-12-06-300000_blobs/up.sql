-- Blobs; see ../../postgres/2026-12-06-300000_blobs/up.sql for what each
-- column means.
CREATE TABLE blobs (
    id          TEXT   PRIMARY KEY NOT NULL,
    owner_id    BLOB   NOT NULL,
    purpose     TEXT   NOT NULL,
    max_bytes   BIGINT NOT NULL,
    sha256      TEXT,
    created_at  TEXT   NOT NULL,
    attached_at TEXT,
    doomed_at   TEXT,
    CONSTRAINT blobs_purpose_check CHECK (purpose IN ('message', 'attachment', 'avatar')),
    CONSTRAINT blobs_id_len CHECK (length(id) BETWEEN 1 AND 128)
);
CREATE INDEX blobs_created_at_idx ON blobs (created_at);
CREATE INDEX blobs_owner_id_idx ON blobs (owner_id);
CREATE INDEX blobs_attached_at_idx ON blobs (attached_at) WHERE attached_at IS NOT NULL;
CREATE INDEX blobs_doomed_at_idx ON blobs (doomed_at) WHERE doomed_at IS NOT NULL;
CREATE INDEX users_avatar_blob_id_idx ON users (avatar_blob_id) WHERE avatar_blob_id IS NOT NULL;
CREATE INDEX messages_blob_id_idx ON messages (blob_id) WHERE blob_id IS NOT NULL;
