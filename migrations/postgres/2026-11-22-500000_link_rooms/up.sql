-- Link rooms: who is in a room right now, and which gateway nodes are alive.
-- Keep in step with ../../sqlite/2026-11-22-500000_link_rooms/up.sql.
--
-- A link room (conversations.kind = 'link', its link in join_token) lives
-- while at least one WebSocket session is in it. Each session in a room is
-- one `room_presence` row, written by the node that serves the session.
-- When the last row of a room goes, the room goes with it (conversation,
-- members, messages and their stream events), in the same transaction.
--
--   connection_id: the session (`ready.connectionId`).
--   user_id:       whose session it is. No foreign key on purpose: when an
--                  account is deleted its sessions close, and the session's
--                  end is what removes the row and announces the leave; a
--                  cascade would remove it silently.
--   node_id:       the gateway node serving the session. No foreign key
--                  either: rows whose node has no live `gateway_nodes` row
--                  are removed by the other nodes' sweepers (a node that
--                  crashed cannot remove its own).
CREATE TABLE room_presence (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    connection_id   uuid        NOT NULL,
    user_id         uuid        NOT NULL,
    node_id         uuid        NOT NULL,
    entered_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, connection_id)
);
-- A node's rows (its shutdown, the sweep of a dead node).
CREATE INDEX room_presence_node_id_idx ON room_presence (node_id);

-- One row per running gateway node, refreshed every `rooms.heartbeat_secs`.
-- A row not refreshed for three intervals marks a dead node.
CREATE TABLE gateway_nodes (
    id      uuid        PRIMARY KEY,
    seen_at timestamptz NOT NULL
);

-- The sweep of rooms nobody entered within the grace period reads link
-- rooms by age; the other kinds never need it.
CREATE INDEX conversations_link_created_at_idx ON conversations (created_at) WHERE kind = 'link';
