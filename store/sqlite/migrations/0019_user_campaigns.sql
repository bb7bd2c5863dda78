-- The campaigns a dashboard user works on, as a JSON list of campaign ids, sorted; '[]' is
-- every campaign. Read with the user on every request, so it lives on the user's row.
ALTER TABLE users ADD COLUMN campaigns TEXT NOT NULL DEFAULT '[]';
