DROP TABLE message_requests;
