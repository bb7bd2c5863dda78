-- Transcript lines and replies are found by a participant's small integer key instead of the
-- 40-character id hash. Keys are given in the order participants arrive, so the index entries
-- of the participants writing now (the ones who arrived lately) sit together at the end of
-- the index instead of all over it: with a million participants stored, a step otherwise
-- read and wrote two index pages no longer in memory (docs/performance.md). seq is a column
-- of its own, not the rowid, which VACUUM may renumber.
ALTER TABLE participants ADD COLUMN seq INTEGER;
UPDATE participants SET seq = rowid;
CREATE UNIQUE INDEX participants_seq ON participants (seq);

ALTER TABLE lines ADD COLUMN participant_seq INTEGER;
UPDATE lines SET participant_seq = (SELECT seq FROM participants p WHERE p.id = lines.participant_id);
DROP INDEX lines_participant;
CREATE INDEX lines_participant_seq ON lines (participant_seq, id);

ALTER TABLE outbox ADD COLUMN participant_seq INTEGER;
UPDATE outbox SET participant_seq = (SELECT seq FROM participants p WHERE p.id = outbox.participant_id)
WHERE participant_id IS NOT NULL;
DROP INDEX outbox_participant;
CREATE INDEX outbox_participant_seq ON outbox (participant_seq, id);
