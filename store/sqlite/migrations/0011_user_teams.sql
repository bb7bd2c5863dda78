-- The hand-off teams a dashboard user answers for (a state's `handoff: NAME`), as a JSON list
-- of names, sorted; a user may be in several. The team queues are short and read per page,
-- so the list needs no table or index of its own.
ALTER TABLE users ADD COLUMN teams TEXT NOT NULL DEFAULT '[]';
