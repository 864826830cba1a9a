ALTER TABLE users DROP COLUMN read_receipts;
DROP TABLE read_markers;
