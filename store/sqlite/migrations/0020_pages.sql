-- The dashboard's lists read a page at a time in index order (keyset pagination), so none of
-- them sorts or scans a whole table: the inbox and the participants list by last activity
-- (all campaigns, one campaign, one state, the conversations handed to a human), the entry
-- queue by status and age, the charts by day.
DROP INDEX participants_campaign_state;
CREATE INDEX participants_campaign_state ON participants (campaign, state, updated_at);
CREATE INDEX participants_recent ON participants (updated_at);
CREATE INDEX participants_campaign_recent ON participants (campaign, updated_at);
CREATE INDEX participants_handoff ON participants (json_extract(vars, '$.handoff'), updated_at)
	WHERE json_extract(vars, '$.handoff') != '';
CREATE INDEX entries_status_recent ON entries (status, created_at);
CREATE INDEX entries_recent ON entries (created_at);
CREATE INDEX entries_campaign_recent ON entries (campaign, created_at);
CREATE INDEX entries_decided ON entries (campaign, decided_at, created_at) WHERE decided_at > 0;
-- Replies by how far they got, then by day: the delivery chart counts one index range per
-- status and day, with nothing to sort.
CREATE INDEX outbox_campaign_day ON outbox (campaign, status, delivery, due_at, channel);

-- Who has read a conversation up to which inbound message: the inbox's unread marks, per user.
CREATE TABLE read_marks (
	username       TEXT    NOT NULL,
	participant_id TEXT    NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
	seen_at        INTEGER NOT NULL,
	PRIMARY KEY (username, participant_id)
) WITHOUT ROWID;
CREATE INDEX read_marks_participant ON read_marks (participant_id);

-- The broadcast history: what was sent, to whom and by whom; the recipients' progress is in
-- the outbox rows that carry the broadcast's id.
CREATE TABLE broadcasts (
	id         TEXT    PRIMARY KEY,
	campaign   TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	var        TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	template   TEXT    NOT NULL,
	by         TEXT    NOT NULL,
	queued     INTEGER NOT NULL,
	at         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX broadcasts_campaign ON broadcasts (campaign, at);
