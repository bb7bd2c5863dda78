-- The race's round is vars.round in a column of its own, written with the participant by each
-- step, as the hand-off team is (0025): participants_round had an expression over vars in its
-- key and its condition, so every step of every participant parsed the JSON of the old and
-- the new row to keep it (docs/performance.md, "What the dashboard's indexes cost the message
-- path"). The funnel per round counts from the rebuilt index alone, as before.
ALTER TABLE participants ADD COLUMN round TEXT NOT NULL DEFAULT '';
UPDATE participants SET round = json_extract(vars, '$.round') WHERE json_extract(vars, '$.round') != '';
DROP INDEX participants_round;
CREATE INDEX participants_round ON participants (campaign, round, finished) WHERE round != '';
