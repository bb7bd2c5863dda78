-- Times are UTC unix nanoseconds (0 for the zero time); maps and media are JSON text.

-- inbound holds every event until a worker has applied or skipped it. platform_id is NULL for
-- events the channel could not identify, so they are never mistaken for duplicates.
CREATE TABLE inbound (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	channel        TEXT    NOT NULL,
	platform_id    TEXT,
	campaign       TEXT    NOT NULL,
	sender         TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	participant_id TEXT    NOT NULL,
	kind           TEXT    NOT NULL,
	text           TEXT    NOT NULL,
	media          TEXT,
	verdict        TEXT    NOT NULL,
	entry_id       TEXT    NOT NULL,
	at             INTEGER NOT NULL,
	processed      INTEGER NOT NULL DEFAULT 0,
	skip_reason    TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX inbound_dedupe ON inbound (channel, platform_id);
-- Only the unprocessed tail is ever scanned by id, so the index stays as small as the backlog.
CREATE INDEX inbound_pending ON inbound (id) WHERE processed = 0;

CREATE TABLE participants (
	id          TEXT PRIMARY KEY,
	campaign    TEXT    NOT NULL,
	channel     TEXT    NOT NULL,
	address     TEXT    NOT NULL,
	state       TEXT    NOT NULL,
	vars        TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	def_version TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX participants_campaign_state ON participants (campaign, state);

-- Everything below hangs off a participant and goes with them when they ask to be deleted.
CREATE TABLE lines (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	participant_id TEXT    NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
	direction      TEXT    NOT NULL,
	text           TEXT    NOT NULL,
	media_key      TEXT    NOT NULL,
	at             INTEGER NOT NULL
);
CREATE INDEX lines_participant ON lines (participant_id, id);

CREATE TABLE entries (
	id             TEXT PRIMARY KEY,
	campaign       TEXT    NOT NULL,
	participant_id TEXT    NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
	state          TEXT    NOT NULL,
	kind           TEXT    NOT NULL,
	media_key      TEXT    NOT NULL,
	thumb_key      TEXT    NOT NULL,
	mime           TEXT    NOT NULL,
	caption        TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	status         TEXT    NOT NULL DEFAULT 'pending',
	decided_by     TEXT    NOT NULL DEFAULT '',
	decided_at     INTEGER NOT NULL DEFAULT 0,
	reason         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX entries_queue ON entries (campaign, status, created_at);
CREATE INDEX entries_participant ON entries (participant_id);

CREATE TABLE outbox (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	participant_id TEXT    NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
	campaign       TEXT    NOT NULL,
	channel        TEXT    NOT NULL,
	recipient      TEXT    NOT NULL,
	text           TEXT    NOT NULL,
	due_at         INTEGER NOT NULL,
	status         TEXT    NOT NULL,
	platform_id    TEXT    NOT NULL DEFAULT '',
	error          TEXT    NOT NULL DEFAULT '',
	attempts       INTEGER NOT NULL DEFAULT 0,
	sent_at        INTEGER NOT NULL DEFAULT 0,
	updated_at     INTEGER NOT NULL DEFAULT 0
);
-- The sender scans only what is still to go; sent and failed rows drop out of the index.
CREATE INDEX outbox_pending ON outbox (id, due_at) WHERE status = 'pending';
CREATE INDEX outbox_participant ON outbox (participant_id, id);

-- codes outlive a deleted participant, so a code handed out at the door is never issued twice.
CREATE TABLE codes (
	campaign       TEXT    NOT NULL,
	code           TEXT    NOT NULL,
	participant_id TEXT    REFERENCES participants (id) ON DELETE SET NULL,
	issued_at      INTEGER NOT NULL,
	PRIMARY KEY (campaign, code)
);
CREATE INDEX codes_participant ON codes (participant_id);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	username      TEXT    NOT NULL UNIQUE,
	role          TEXT    NOT NULL,
	password_hash BLOB    NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
