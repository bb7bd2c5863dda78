-- Teams formed on the web chat (a name and an invite code; engine/teams.go), and the rounds
-- that started and closed, so a team that joins late is brought into the running round.
CREATE TABLE teams (
	id         TEXT    PRIMARY KEY,
	campaign   TEXT    NOT NULL,
	channel    TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	name_key   TEXT    NOT NULL,
	code       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (campaign, code),
	UNIQUE (campaign, name_key)
) WITHOUT ROWID;

-- A member is in at most one team per campaign and channel.
CREATE TABLE team_members (
	campaign  TEXT    NOT NULL,
	channel   TEXT    NOT NULL,
	member    TEXT    NOT NULL,
	team_id   TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	joined    INTEGER NOT NULL,
	PRIMARY KEY (campaign, channel, member)
) WITHOUT ROWID;
CREATE INDEX team_members_team ON team_members (team_id, joined);

CREATE TABLE round_marks (
	campaign TEXT    NOT NULL,
	round    TEXT    NOT NULL,
	event    TEXT    NOT NULL,
	at       INTEGER NOT NULL,
	PRIMARY KEY (campaign, round, event)
) WITHOUT ROWID;
