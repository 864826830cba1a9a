-- Link rooms; see ../../postgres/2026-11-22-500000_link_rooms/up.sql for
-- what each table and column means.
CREATE TABLE room_presence (
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    connection_id   BLOB NOT NULL,
    user_id         BLOB NOT NULL,
    node_id         BLOB NOT NULL,
    entered_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, connection_id)
);
CREATE INDEX room_presence_node_id_idx ON room_presence (node_id);

CREATE TABLE gateway_nodes (
    id      BLOB NOT NULL PRIMARY KEY,
    seen_at TEXT NOT NULL
);

CREATE INDEX conversations_link_created_at_idx ON conversations (created_at) WHERE kind = 'link';
