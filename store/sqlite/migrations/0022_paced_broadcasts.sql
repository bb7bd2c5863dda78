-- Paced broadcasts (package broadcast): a broadcast started through the planner, and each of
-- its recipients, stored at the start and released into the outbox by the pacer at the pace
-- the number's limits allow, across days and restarts.
CREATE TABLE paced_broadcasts (
	id            TEXT    PRIMARY KEY,
	campaign      TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	paused_reason TEXT    NOT NULL,
	baseline      TEXT    NOT NULL,
	channel       TEXT    NOT NULL,
	number        TEXT    NOT NULL,
	request       TEXT    NOT NULL, -- broadcast.Request as JSON
	plan          TEXT    NOT NULL, -- broadcast.Plan as JSON
	at            INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX paced_broadcasts_campaign ON paced_broadcasts (campaign, at);
CREATE INDEX paced_broadcasts_status ON paced_broadcasts (status, at);

-- One row per recipient; released once (status leaves 'waiting' once), its outbox row named.
-- The ledgers read it too: unique people reached outside the window per number in the
-- moving 24 hours (template = 1), broadcasts per person (the frequency cap), and the
-- platform's refusals (131049, 131050) per person.
CREATE TABLE broadcast_recipients (
	broadcast_id   TEXT    NOT NULL REFERENCES paced_broadcasts (id) ON DELETE CASCADE,
	seq            INTEGER NOT NULL,
	participant_id TEXT    NOT NULL,
	channel        TEXT    NOT NULL,
	number         TEXT    NOT NULL,
	address        TEXT    NOT NULL,
	country        TEXT    NOT NULL,
	template       INTEGER NOT NULL,
	status         TEXT    NOT NULL,
	reason         TEXT    NOT NULL,
	released_at    INTEGER NOT NULL,
	outbox_id      INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	PRIMARY KEY (broadcast_id, seq)
) WITHOUT ROWID;
CREATE INDEX broadcast_recipients_status ON broadcast_recipients (broadcast_id, status, seq);
CREATE UNIQUE INDEX broadcast_recipients_participant ON broadcast_recipients (broadcast_id, participant_id);
CREATE INDEX broadcast_recipients_reached ON broadcast_recipients (channel, number, released_at)
	WHERE template = 1 AND released_at > 0;
CREATE INDEX broadcast_recipients_person ON broadcast_recipients (channel, address, released_at);
CREATE INDEX broadcast_recipients_erase ON broadcast_recipients (participant_id);
