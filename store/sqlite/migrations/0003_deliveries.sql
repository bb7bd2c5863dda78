-- Delivery reports (sent, delivered, read, played, failed) arrive by platform id, out of
-- order; the rank column lets an update refuse to downgrade in one statement.
ALTER TABLE outbox ADD COLUMN delivery       TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_rank  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN delivery_code  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN delivery_error TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_at    INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_platform_id ON outbox (platform_id) WHERE platform_id != '';
-- The delivery monitor counts and lists a campaign's replies.
CREATE INDEX outbox_campaign ON outbox (campaign, id);
