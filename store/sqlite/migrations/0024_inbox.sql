-- Conversations assigned to a dashboard user (the inbox's "assigned to me"), one assignee per
-- conversation. A user's inbox reads their assignments by the index on username and joins
-- each to its participant; "unassigned" looks each listed conversation up by its key. The
-- assignment goes with the participant when they are erased.
CREATE TABLE assignments (
	participant_id TEXT    PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
	campaign       TEXT    NOT NULL,
	username       TEXT    NOT NULL,
	by             TEXT    NOT NULL,
	at             INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX assignments_user ON assignments (username, participant_id);

-- The overview's funnel per round counts a race's participants by the last round that
-- started for them (their `round` variable) and whether they finished, in one range of this
-- index: only participants of campaigns with rounds have an entry in it.
CREATE INDEX participants_round ON participants (campaign, json_extract(vars, '$.round'), finished)
	WHERE json_extract(vars, '$.round') != '';

-- The inbox search's index of the transcript lines: every trigram of every line, so a search
-- finds the lines that contain a text without reading the transcripts of the conversations
-- it looks through. The message path does not write it: the store adds the lines written
-- since the last time every few seconds (search.go), and a search reads the few lines not
-- yet indexed directly. Deleting a line (an erase, retention) deletes it here as well, so no
-- trace of an erased participant's words stays in the index.
CREATE VIRTUAL TABLE lines_search USING fts5(text, content='', contentless_delete=1, tokenize='trigram case_sensitive 0');
CREATE TABLE lines_search_state (
	one     INTEGER PRIMARY KEY CHECK (one = 1),
	-- indexed is the id of the last line in lines_search: those up to it are indexed.
	indexed INTEGER NOT NULL
);
INSERT INTO lines_search_state (one, indexed) VALUES (1, 0);
CREATE TRIGGER lines_search_forget AFTER DELETE ON lines
	WHEN old.id <= (SELECT indexed FROM lines_search_state)
BEGIN
	DELETE FROM lines_search WHERE rowid = old.id;
END;
