-- Up Migration
-- Issue 14 (no idle wait before the first call). A staged contact is 'staged' until the run classifies it against
-- the export's destination state (then 'pending', 'unchanged' or 'over_limit'), so a truncate run can classify and
-- send the contacts certain to be within its limit while later batches still stage. Rows staged by an older
-- version ('pending' by default) are classified as before: a run that classified nothing early classifies them all.
ALTER TABLE delivery.run_contacts DROP CONSTRAINT run_contacts_status_check;
ALTER TABLE delivery.run_contacts ADD CONSTRAINT run_contacts_status_check
  CHECK (status IN ('staged', 'pending', 'sent', 'failed', 'over_limit', 'over_quota', 'unchanged'));
ALTER TABLE delivery.run_contacts ALTER COLUMN status SET DEFAULT 'staged';
-- The contacts a run still has to classify and to send, each in its own partial index in seq order (the early
-- steps and the sender read them in that order). They replace the index on (run_id, status, seq): a contact that
-- is sent (or classified) leaves them, so its update writes no entry there.
CREATE INDEX run_contacts_to_classify ON delivery.run_contacts (run_id, seq) WHERE status = 'staged';
CREATE INDEX run_contacts_to_send ON delivery.run_contacts (run_id, seq) WHERE status = 'pending';
DROP INDEX delivery.run_contacts_by_status;
-- How many contacts a run classified while it was still staging (an upper bound: a contact merged with a later
-- duplicate goes back to 'staged'); caps what it classifies early at its profile limit.
ALTER TABLE delivery.runs ADD COLUMN classified_early integer NOT NULL DEFAULT 0;

-- Down Migration
CREATE INDEX run_contacts_by_status ON delivery.run_contacts (run_id, status, seq);
DROP INDEX delivery.run_contacts_to_classify;
DROP INDEX delivery.run_contacts_to_send;
ALTER TABLE delivery.runs DROP COLUMN classified_early;
UPDATE delivery.run_contacts SET status = 'pending' WHERE status = 'staged';
ALTER TABLE delivery.run_contacts ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE delivery.run_contacts DROP CONSTRAINT run_contacts_status_check;
ALTER TABLE delivery.run_contacts ADD CONSTRAINT run_contacts_status_check
  CHECK (status IN ('pending', 'sent', 'failed', 'over_limit', 'over_quota', 'unchanged'));
