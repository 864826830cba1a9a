-- Game invitations (seed 002): a `game_invite` message carries a game id;
-- the invitee (the other member of the direct conversation) accepts or
-- declines, the inviter may cancel, and a pending one expires. Metadata
-- only: the game id is an opaque handle of the client's game, never its
-- state or content.
-- Keep in step with ../../sqlite/2026-11-22-520000_game_invites/up.sql.
--
-- One row per `game_invite` message, written in the batch transaction that
-- stores the message (also when the message is withheld from the invitee
-- by a block: the inviter sees nothing unusual). Keyed by the sender's
-- `message_id` (what both sides know, and what the REST calls take); the
-- row goes with its message (retraction, account deletion).
--   state:      'pending', 'accepted', 'declined', 'expired', 'cancelled'.
--   expires_at: when a pending invitation expires
--               (created_at + conversations.game_invite_ttl_secs).
--   decided_at: when it left 'pending'.
CREATE TABLE game_invites (
    message_id      uuid        PRIMARY KEY REFERENCES messages (message_id) ON DELETE CASCADE,
    conversation_id uuid        NOT NULL,
    inviter_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invitee_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    game_id         text        NOT NULL,
    state           text        NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    decided_at      timestamptz,
    CONSTRAINT game_invites_state_check
        CHECK (state IN ('pending', 'accepted', 'declined', 'expired', 'cancelled')),
    CONSTRAINT game_invites_game_id_len CHECK (length(game_id) BETWEEN 1 AND 64),
    CONSTRAINT game_invites_not_self CHECK (inviter_id <> invitee_id)
);
-- The expiry sweep reads the pending invitations due first, from this
-- partial index only.
CREATE INDEX game_invites_pending_expires_at_idx ON game_invites (expires_at)
    WHERE state = 'pending';
-- Deleting an account.
CREATE INDEX game_invites_inviter_id_idx ON game_invites (inviter_id);
CREATE INDEX game_invites_invitee_id_idx ON game_invites (invitee_id);
