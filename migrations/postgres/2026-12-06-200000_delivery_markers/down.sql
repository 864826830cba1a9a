DROP TABLE delivery_markers;
