-- The receive loop sends a step's first reply as soon as its write commits, the attempt
-- recorded in that write (engine "direct sends"), only when the participant has no other
-- reply unsent that the reply could overtake. The write asks which are unsent; keyed by
-- participant alone (outbox_participant_seq) the answer walked every reply they ever got.
CREATE INDEX outbox_unsent ON outbox (participant_seq, id) WHERE status = 'pending';
