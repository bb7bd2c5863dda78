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
