-- Pools of codes (partner vouchers): each code is handed out once, in the order it was added
-- (seq). participant_id is NULL until a step hands the code out; the partial index finds the
-- next one left without reading the ones handed out. A code is one code whatever its case, as
-- when it is read aloud.
CREATE TABLE pool_codes (
	campaign       TEXT NOT NULL,
	pool           TEXT NOT NULL,
	code           TEXT NOT NULL COLLATE NOCASE,
	seq            INTEGER NOT NULL,
	participant_id TEXT,
	claimed_at     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (campaign, pool, code)
);
-- Where the participant last shared their location when an entry was collected (LAT,LNG), so
-- a moderator sees the place of a photo on a map.
ALTER TABLE entries ADD COLUMN location TEXT NOT NULL DEFAULT '';
CREATE INDEX pool_codes_left ON pool_codes (campaign, pool, seq) WHERE participant_id IS NULL;
