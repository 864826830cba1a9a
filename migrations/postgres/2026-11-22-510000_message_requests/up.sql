-- Message requests ("who can message me"): a direct conversation started by
-- a user who is not in the other user's contacts, while that user's
-- `message_policy` is 'contacts', begins as a request to them. Metadata only.
-- Keep in step with ../../sqlite/2026-11-22-510000_message_requests/up.sql.
--
-- One row per such conversation, made in the transaction that creates the
-- conversation (an existing conversation never becomes a request). The row
-- is deleted when the addressee accepts (the conversation is then an
-- ordinary one); a declined request is kept, and the requester's later
-- messages in the conversation are withheld from the addressee.
--   addressee_id: who the request is for (their policy asked for it).
--   requester_id: who started the conversation.
--   state:        'pending' or 'declined'.
--   decided_at:   when it was declined.
-- A table of its own rather than a column of `conversation_members`: it is
-- about the pair, not one membership; the membership rows (read on every
-- membership check) stay as they are; and the addressee's inbox is one
-- index range.
CREATE TABLE message_requests (
    conversation_id uuid        PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    addressee_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requester_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state           text        NOT NULL,
    created_at      timestamptz NOT NULL,
    decided_at      timestamptz,
    CONSTRAINT message_requests_state_check CHECK (state IN ('pending', 'declined')),
    CONSTRAINT message_requests_not_self CHECK (addressee_id <> requester_id)
);
-- The addressee's pending requests, keyset-paged in (created_at,
-- conversation_id) order.
CREATE INDEX message_requests_addressee_id_idx
    ON message_requests (addressee_id, state, created_at, conversation_id);
-- Deleting the requester's account.
CREATE INDEX message_requests_requester_id_idx ON message_requests (requester_id);
