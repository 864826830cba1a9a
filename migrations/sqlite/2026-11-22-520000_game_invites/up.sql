-- Game invitations; see ../../postgres/2026-11-22-520000_game_invites/up.sql
-- for what each column means.
CREATE TABLE game_invites (
    message_id      BLOB NOT NULL PRIMARY KEY REFERENCES messages (message_id) ON DELETE CASCADE,
    conversation_id BLOB NOT NULL,
    inviter_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invitee_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    game_id         TEXT NOT NULL,
    state           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    decided_at      TEXT,
    CONSTRAINT game_invites_state_check
        CHECK (state IN ('pending', 'accepted', 'declined', 'expired', 'cancelled')),
    CONSTRAINT game_invites_game_id_len CHECK (length(game_id) BETWEEN 1 AND 64),
    CONSTRAINT game_invites_not_self CHECK (inviter_id <> invitee_id)
);
CREATE INDEX game_invites_pending_expires_at_idx ON game_invites (expires_at)
    WHERE state = 'pending';
CREATE INDEX game_invites_inviter_id_idx ON game_invites (inviter_id);
CREATE INDEX game_invites_invitee_id_idx ON game_invites (invitee_id);
