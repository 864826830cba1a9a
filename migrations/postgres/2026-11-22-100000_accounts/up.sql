-- Accounts: users, their devices (one per login) and rotating refresh tokens.
-- Metadata only: no message content and no key material lives here.
-- Keep in step with ../../sqlite/2026-11-22-100000_accounts/up.sql.

CREATE TABLE users (
    id               uuid        PRIMARY KEY,
    username         text        NOT NULL,  -- stored lower-cased
    display_name     text,
    password_hash    text,                  -- NULL for external-IdP users
    external_issuer  text,
    external_subject text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_external_identity_key UNIQUE (external_issuer, external_subject),
    CONSTRAINT users_external_identity_pair
        CHECK ((external_issuer IS NULL) = (external_subject IS NULL))
);

CREATE TABLE devices (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text,
    platform     text,
    external_key text,                      -- device id claimed by an external IdP token
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX devices_user_id_idx ON devices (user_id);
-- Unique per user, revoked devices included: revoking an external device is
-- final, its identity provider's device id can never come back as a new row.
CREATE UNIQUE INDEX devices_external_key_key ON devices (user_id, external_key);

CREATE TABLE refresh_tokens (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  uuid        NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL,        -- SHA-256 of the opaque token
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_token_hash_len CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX refresh_tokens_device_id_idx ON refresh_tokens (device_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
