-- Leases on work (a participant's events, a reply to send): one row per key, taken over only
-- once its lease ran out. The embedded store has one process, but the engine claims the same
-- way on every store.
CREATE TABLE claims (
	key   TEXT    PRIMARY KEY,
	owner TEXT    NOT NULL,
	until INTEGER NOT NULL
) WITHOUT ROWID;
