-- Accounts: users, their devices (one per login) and rotating refresh tokens.
-- Metadata only: no message content and no key material lives here.
-- Keep in step with ../../postgres/2026-11-22-100000_accounts/up.sql.
-- SQLite forms: ids are 16-byte BLOBs, timestamps are fixed-width RFC 3339
-- TEXT (`2026-11-22T10:00:00.123456Z`, so text order is time order).

CREATE TABLE users (
    id               BLOB NOT NULL PRIMARY KEY,
    username         TEXT NOT NULL,  -- stored lower-cased
    display_name     TEXT,
    password_hash    TEXT,           -- NULL for external-IdP users
    external_issuer  TEXT,
    external_subject TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_external_identity_key UNIQUE (external_issuer, external_subject),
    CONSTRAINT users_external_identity_pair
        CHECK ((external_issuer IS NULL) = (external_subject IS NULL))
);

CREATE TABLE devices (
    id           BLOB NOT NULL PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT,
    platform     TEXT,
    external_key TEXT,               -- device id claimed by an external IdP token
    created_at   TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX devices_user_id_idx ON devices (user_id);
-- Unique per user, revoked devices included: revoking an external device is
-- final, its identity provider's device id can never come back as a new row.
CREATE UNIQUE INDEX devices_external_key_key ON devices (user_id, external_key);

CREATE TABLE refresh_tokens (
    id         BLOB NOT NULL PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  BLOB NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL,        -- SHA-256 of the opaque token
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_token_hash_len CHECK (length(token_hash) = 32)
);
CREATE INDEX refresh_tokens_device_id_idx ON refresh_tokens (device_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
