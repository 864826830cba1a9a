-- Message requests; see ../../postgres/2026-11-22-510000_message_requests/up.sql
-- for what each column means.
CREATE TABLE message_requests (
    conversation_id BLOB NOT NULL PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    addressee_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requester_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    decided_at      TEXT,
    CONSTRAINT message_requests_state_check CHECK (state IN ('pending', 'declined')),
    CONSTRAINT message_requests_not_self CHECK (addressee_id <> requester_id)
);
CREATE INDEX message_requests_addressee_id_idx
    ON message_requests (addressee_id, state, created_at, conversation_id);
CREATE INDEX message_requests_requester_id_idx ON message_requests (requester_id);
