-- agent is the dashboard user who wrote a reply (empty for the persona's): Messenger lets a
-- human agent's reply out, with the HUMAN_AGENT tag, for 7 days after the participant's last
-- message instead of 24 hours.
ALTER TABLE outbox ADD COLUMN agent TEXT NOT NULL DEFAULT '';
