-- Every step of every participant moves its entries in each index on participants that holds
-- updated_at, and an index whose key or condition is an expression over vars parses the JSON
-- of the old and the new row on every step (docs/performance.md, "What the dashboard's indexes
-- cost the message path"). So:
-- * participants_recent goes: the list of every campaign reads participants_campaign_recent,
--   one range per campaign, merged (everycampaign.go).
-- * the hand-off team is a column of its own, written with the participant by each step, and
--   the index of the conversations waiting for a human is a plain partial index on it.
DROP INDEX participants_recent;
ALTER TABLE participants ADD COLUMN handoff TEXT NOT NULL DEFAULT '';
UPDATE participants SET handoff = json_extract(vars, '$.handoff') WHERE json_extract(vars, '$.handoff') != '';
DROP INDEX participants_handoff;
CREATE INDEX participants_handoff ON participants (handoff, updated_at) WHERE handoff != '';
-- outbox_retried was meant to hold only the replies waiting out a backoff (0009), but since
-- each attempt is counted before its send (0012) every reply entered it while being sent and
-- left it once sent: two index writes per reply. A reply in flight is not waiting to be tried
-- again (its due time has passed, so it never held a later one back in DueOutbox either).
DROP INDEX outbox_retried;
CREATE INDEX outbox_retried ON outbox (participant_seq, id) WHERE status = 'pending' AND attempts > 0 AND in_flight = 0;
