-- sender is the business address a reply goes out from (for WhatsApp the phone_number_id the
-- participant wrote to); empty means the campaign's own number, else the server's default.
ALTER TABLE outbox ADD COLUMN sender TEXT NOT NULL DEFAULT '';
