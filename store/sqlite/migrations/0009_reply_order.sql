-- A participant's replies go out in the order they were queued: a later step's replies are
-- typed after the last one queued (last_reply_due), and a reply waits while one queued before
-- it for the same participant is pending and not due (a retry's backoff). The partial index
-- finds those few pending rows without reading the participant's sent ones.
ALTER TABLE participants ADD COLUMN last_reply_due INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_pending_participant ON outbox (participant_seq, id) WHERE status = 'pending';
