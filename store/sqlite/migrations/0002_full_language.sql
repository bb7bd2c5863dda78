-- The full campaign language: choices, locations, timers, rounds, pools, hand-off, the 24-hour
-- window, broadcasts, notifications, and launched definitions with their status.

-- extra holds the kind-specific fields of an event (choice, location, reply-to, timer, round,
-- agent) as JSON, so a new kind needs no new column.
ALTER TABLE inbound ADD COLUMN extra TEXT;

ALTER TABLE participants ADD COLUMN entered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN finished INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN last_inbound_at INTEGER NOT NULL DEFAULT 0;
-- Routing finds a stranger's conversations by where they write from.
CREATE INDEX participants_address ON participants (channel, address);
CREATE INDEX participants_def_version ON participants (campaign, def_version) WHERE finished = 0;

-- The outbox is rebuilt because a reply to a stranger (a campaign that is not running) has no
-- participant, and SQLite cannot drop NOT NULL in place. Nothing references outbox.
CREATE TABLE outbox_new (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	participant_id TEXT    REFERENCES participants (id) ON DELETE CASCADE,
	campaign       TEXT    NOT NULL,
	channel        TEXT    NOT NULL,
	recipient      TEXT    NOT NULL,
	text           TEXT    NOT NULL,
	buttons        TEXT,
	media_url      TEXT    NOT NULL DEFAULT '',
	template       TEXT,
	broadcast_id   TEXT,
	due_at         INTEGER NOT NULL,
	status         TEXT    NOT NULL,
	platform_id    TEXT    NOT NULL DEFAULT '',
	error          TEXT    NOT NULL DEFAULT '',
	attempts       INTEGER NOT NULL DEFAULT 0,
	sent_at        INTEGER NOT NULL DEFAULT 0,
	updated_at     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_new (id, participant_id, campaign, channel, recipient, text, due_at, status,
	platform_id, error, attempts, sent_at, updated_at)
SELECT id, participant_id, campaign, channel, recipient, text, due_at, status, platform_id, error,
	attempts, sent_at, updated_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (id, due_at) WHERE status = 'pending';
CREATE INDEX outbox_participant ON outbox (participant_id, id);
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, status) WHERE broadcast_id IS NOT NULL;

-- timers become inbound events when due. participant_id is NULL for a campaign's timers
-- (round starts and deadlines).
CREATE TABLE timers (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	key            TEXT    NOT NULL UNIQUE,
	campaign       TEXT    NOT NULL,
	participant_id TEXT    REFERENCES participants (id) ON DELETE CASCADE,
	transition     TEXT    NOT NULL DEFAULT '',
	seq            INTEGER NOT NULL DEFAULT 0,
	round          TEXT    NOT NULL DEFAULT '',
	round_event    TEXT    NOT NULL DEFAULT '',
	due_at         INTEGER NOT NULL
);
CREATE INDEX timers_due ON timers (due_at);
CREATE INDEX timers_participant ON timers (participant_id);

-- pools count taken places; a place is taken only while taken < capacity, in the commit.
CREATE TABLE pools (
	campaign TEXT    NOT NULL,
	pool     TEXT    NOT NULL,
	taken    INTEGER NOT NULL,
	PRIMARY KEY (campaign, pool)
);

CREATE TABLE notifications (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	campaign       TEXT    NOT NULL,
	participant_id TEXT    REFERENCES participants (id) ON DELETE CASCADE,
	text           TEXT    NOT NULL,
	at             INTEGER NOT NULL
);
CREATE INDEX notifications_campaign ON notifications (campaign, id);

-- campaign_versions keeps every launched definition so a restart runs what was launched, and
-- participants can finish on the version they started with.
CREATE TABLE campaign_versions (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	id      TEXT    NOT NULL,
	version TEXT    NOT NULL,
	file    TEXT    NOT NULL,
	source  BLOB    NOT NULL,
	at      INTEGER NOT NULL,
	UNIQUE (id, version)
);

CREATE TABLE campaign_status (
	id         TEXT PRIMARY KEY,
	status     TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
);
