-- What the platform last said about each sending number (issue 16): its messaging limit
-- (-1 unlimited, 0 unknown), throughput, quality and standing, from a read of the Graph API
-- or a phone_number_quality_update webhook. One row per channel and number; a save with older
-- facts than the row's changes nothing.
CREATE TABLE number_health (
	channel    TEXT    NOT NULL,
	number     TEXT    NOT NULL,
	display    TEXT    NOT NULL,
	msg_limit  INTEGER NOT NULL,
	throughput INTEGER NOT NULL,
	quality    TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	event      TEXT    NOT NULL,
	checked_at INTEGER NOT NULL,
	PRIMARY KEY (channel, number)
) WITHOUT ROWID;

-- Each person's latest answer about marketing messages on a channel (a user_preferences
-- webhook, a 131050 refusal): it holds in every campaign on that channel. The broadcast
-- planner asks for thousands of addresses at once, by primary key.
CREATE TABLE marketing_preferences (
	channel TEXT    NOT NULL,
	address TEXT    NOT NULL,
	stop    INTEGER NOT NULL,
	source  TEXT    NOT NULL,
	at      INTEGER NOT NULL,
	PRIMARY KEY (channel, address)
) WITHOUT ROWID;
