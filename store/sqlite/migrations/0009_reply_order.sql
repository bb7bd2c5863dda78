-- A participant's replies go out in the order they were queued. A later step's replies are
-- typed after the last one queued (last_reply_due), so due times rise with ids; only a retry
-- puts a reply's due time after a later one's. DueOutbox holds a reply back while an older
-- reply of the same participant waits out its backoff: the partial index holds just those
-- retried rows, so the common reply, sent at the first attempt, costs no index entry.
ALTER TABLE participants ADD COLUMN last_reply_due INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_retried ON outbox (participant_seq, id) WHERE status = 'pending' AND attempts > 0;
