-- audit is the append-only audit trail (package audit). The store has no statement that
-- changes or removes a row, and these triggers refuse one from anywhere else.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	campaign TEXT NOT NULL DEFAULT '',
	participant_id TEXT NOT NULL DEFAULT '',
	entry_id TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_campaign ON audit (campaign, id);
CREATE INDEX audit_participant ON audit (participant_id, id);
CREATE INDEX audit_entry ON audit (entry_id, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

-- draws are the verifiable draws (package draw). eligible is the canonical list as its text
-- (one participant per line), seed the secret seed's bytes.
CREATE TABLE draws (
	campaign TEXT NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	algorithm TEXT NOT NULL,
	winners INTEGER NOT NULL,
	eligible TEXT NOT NULL,
	eligible_sha256 TEXT NOT NULL,
	seed BLOB NOT NULL,
	seed_sha256 TEXT NOT NULL,
	committed_by TEXT NOT NULL,
	committed_at INTEGER NOT NULL,
	closed_by TEXT NOT NULL DEFAULT '',
	closed_at INTEGER NOT NULL DEFAULT 0,
	drawn TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (campaign, name)
);
