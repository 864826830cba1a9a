ALTER TABLE messages DROP COLUMN withheld;
DROP INDEX messages_conversation_id_idx;
DROP TABLE conversation_invites;
DROP TABLE conversation_members;
DROP TABLE conversations;
