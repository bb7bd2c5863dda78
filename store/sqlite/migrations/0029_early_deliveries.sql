-- A platform's delivery report can arrive before the reply it is about is recorded as sent:
-- the platform answers the send with the message's id, and reports it delivered or read a
-- moment later, while the sender records the sends of a round together, after the round's
-- slowest one. Such a report found no reply with its id and was dropped, and the reply read
-- "sent" for good. It is kept here until the reply is recorded (markSent applies and deletes
-- it), or for an hour: reports on messages other systems sent from the same number have no
-- reply here ever.
CREATE TABLE early_deliveries (
	platform_id    TEXT    PRIMARY KEY,
	delivery       TEXT    NOT NULL,
	delivery_rank  INTEGER NOT NULL,
	delivery_code  INTEGER NOT NULL DEFAULT 0,
	delivery_error TEXT    NOT NULL DEFAULT '',
	delivery_at    INTEGER NOT NULL,
	received_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX early_deliveries_received ON early_deliveries (received_at);
