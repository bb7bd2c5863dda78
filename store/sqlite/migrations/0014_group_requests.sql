-- Captains' requests for their team's group chat (WhatsApp's Groups API; engine/groups.go):
-- the platform answers a request with its id and announces the group later, by that id.
CREATE TABLE group_requests (
	channel     TEXT    NOT NULL,
	request_id  TEXT    NOT NULL,
	campaign    TEXT    NOT NULL,
	captain     TEXT    NOT NULL,
	message_id  TEXT    NOT NULL,
	number      TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	group_id    TEXT    NOT NULL DEFAULT '',
	invite_link TEXT    NOT NULL DEFAULT '',
	error       TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (channel, request_id)
) WITHOUT ROWID;
CREATE INDEX group_requests_captain ON group_requests (campaign, channel, captain, created_at);
