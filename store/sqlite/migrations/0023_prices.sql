-- The brand's price table for template messages, as the admin wrote it (CSV, with their
-- comments), so the dashboard shows it back; one row: the latest saved wins.
CREATE TABLE price_table (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	text TEXT    NOT NULL,
	by   TEXT    NOT NULL,
	at   INTEGER NOT NULL
);
