DROP INDEX conversations_link_created_at_idx;
DROP TABLE gateway_nodes;
DROP TABLE room_presence;
