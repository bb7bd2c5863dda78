-- The delivery monitor's list of a campaign's replies that did not reach their participant
-- (Undelivered) read outbox_campaign, every reply of the campaign by id, newest first, until
-- it had found enough that failed or were cancelled: past every reply sent, and every reply
-- queued wrote its entry in it, on the message path. The partial index holds only the replies
-- the list shows, so a reply queued, attempted and sent writes nothing here (SQLite checks
-- the condition only), and the list reads only what it shows. Nothing else read
-- outbox_campaign: the counts read outbox_campaign_day, the replies maybe sent twice
-- outbox_maybe_twice.
DROP INDEX outbox_campaign;
CREATE INDEX outbox_undelivered ON outbox (campaign, id)
	WHERE status IN ('failed', 'cancelled') OR delivery = 'failed';
