-- Each send attempt is recorded before the reply goes to the platform: in_flight is 1 from
-- then until its outcome (sent, failed, to be retried) is stored. A pending reply found with
-- in_flight = 1 was being sent when its process died: the platform may have it. Sending it
-- again sets maybe_twice, which the delivery monitor and /metrics show. attempted_by is the
-- engine (Config.Owner) that made the last attempt; a restarted process finds its own.
ALTER TABLE outbox ADD COLUMN attempted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN attempted_by TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN in_flight    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN maybe_twice  INTEGER NOT NULL DEFAULT 0;
-- The delivery monitor lists a campaign's replies that may have been sent twice.
CREATE INDEX outbox_maybe_twice ON outbox (campaign, id) WHERE maybe_twice = 1;
