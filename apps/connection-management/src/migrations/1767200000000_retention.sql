-- Up Migration
-- Retention of run history. `rejected` is now kept incrementally and may exceed what is stored: at most
-- MAX_REJECTIONS_PER_RUN rows are kept per run (`rejections_stored`), the count stays exact. A rows-rejected
-- event is remembered by the digest of its row identities, so a redelivered event is never counted twice,
-- also once its rows are past the cap and no longer stored.
ALTER TABLE runs ADD COLUMN rejections_stored integer NOT NULL DEFAULT 0;
UPDATE runs SET rejections_stored = rejected WHERE rejected > 0;

CREATE TABLE rejection_events (
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  digest text NOT NULL,
  PRIMARY KEY (run_id, digest)
);

-- The purge job's scan: ended runs by end time.
CREATE INDEX runs_finished_idx ON runs (finished_at) WHERE finished_at IS NOT NULL;

-- Down Migration
DROP INDEX runs_finished_idx;
DROP TABLE rejection_events;
ALTER TABLE runs DROP COLUMN rejections_stored;
