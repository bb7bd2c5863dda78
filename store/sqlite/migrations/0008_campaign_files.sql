-- campaign_files remembers, per definition file, what was last loaded from it, so a restart
-- stores a file again only when it changed (and a version launched since stays current).
CREATE TABLE campaign_files (
	path    TEXT PRIMARY KEY,
	id      TEXT    NOT NULL,
	version TEXT    NOT NULL,
	hash    TEXT    NOT NULL,
	at      INTEGER NOT NULL
);

-- launched_at is when the campaign was first stored: times a definition writes as a duration
-- after launch (7d) count from it, so they must not move with each new version.
ALTER TABLE campaign_status ADD COLUMN launched_at INTEGER NOT NULL DEFAULT 0;
UPDATE campaign_status SET launched_at = COALESCE(
	(SELECT MIN(at) FROM campaign_versions v WHERE v.id = campaign_status.id), updated_at);
