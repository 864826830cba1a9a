DROP TABLE device_events;
DROP TABLE messages;
DROP TABLE device_streams;
