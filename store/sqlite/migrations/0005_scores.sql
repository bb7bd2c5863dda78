-- Rubric scores: one row per judge and criterion of an entry, the raw score as given. A
-- judge's re-scoring replaces their rows for the entry; the ranking adds them up in judge.
CREATE TABLE scores (
	campaign  TEXT    NOT NULL,
	entry_id  TEXT    NOT NULL,
	judge     TEXT    NOT NULL,
	criterion TEXT    NOT NULL,
	score     INTEGER NOT NULL,
	at        INTEGER NOT NULL,
	PRIMARY KEY (campaign, entry_id, judge, criterion)
) WITHOUT ROWID;
