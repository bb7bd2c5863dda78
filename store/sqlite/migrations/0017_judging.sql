-- Judging panels: the numbered seats of each entry's panel, and the conflicts of interest and
-- abstentions judges declared. A seat is never taken back: a judge with a conflict keeps it,
-- marked by the recusal, and a new seat goes to whoever replaces them.
CREATE TABLE panel_seats (
	entry_id TEXT    NOT NULL,
	seat     INTEGER NOT NULL,
	campaign TEXT    NOT NULL,
	judge    TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (entry_id, seat),
	UNIQUE (entry_id, judge)
) WITHOUT ROWID;
CREATE INDEX panel_seats_load ON panel_seats (campaign, judge);

CREATE TABLE panel_recusals (
	entry_id TEXT    NOT NULL,
	judge    TEXT    NOT NULL,
	campaign TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	reason   TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (entry_id, judge)
) WITHOUT ROWID;
CREATE INDEX panel_recusals_load ON panel_recusals (campaign, judge, kind);

-- When each judge first scored an entry (0 for scores given before this column: their at
-- counts), so a score lock counts from the first score, not from the last change.
ALTER TABLE scores ADD COLUMN given_at INTEGER NOT NULL DEFAULT 0;
