-- Whether a participant has events waiting, in one probe: the receive loop applies a message
-- together with storing it only when its participant has none (store/sqlite/fused.go), so
-- their events stay in order. Like inbound_pending it holds only the unprocessed rows, and an
-- event stored processed by that loop touches neither index.
CREATE INDEX inbound_waiting ON inbound (participant_id) WHERE processed = 0;
