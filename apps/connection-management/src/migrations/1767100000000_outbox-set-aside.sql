-- Up Migration
-- A row that keeps failing to send is set aside with its error (and reported) instead of being retried
-- ahead of everything else; later rows of the same key wait with it, so one key's order is kept.
ALTER TABLE outbox
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN last_error text,
  ADD COLUMN set_aside_at timestamptz;
CREATE INDEX outbox_set_aside_key ON outbox (message_key, id) WHERE set_aside_at IS NOT NULL;

-- Down Migration
DROP INDEX outbox_set_aside_key;
ALTER TABLE outbox DROP COLUMN set_aside_at, DROP COLUMN last_error, DROP COLUMN attempts;
