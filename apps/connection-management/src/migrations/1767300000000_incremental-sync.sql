-- Up Migration
-- Issue 12 (incremental mirror sync). Exports that exist keep `upsert` (add and update only) until changed; the
-- API gives new exports `mirror`. A run remembers how it was asked for (dry run, full resync, confirmed
-- removals), reports its phase and the progress of that phase, and counts the diff.
ALTER TABLE exports
  ADD COLUMN sync_mode text NOT NULL DEFAULT 'upsert' CHECK (sync_mode IN ('mirror', 'upsert')),
  ADD COLUMN mass_removal_percent integer NOT NULL DEFAULT 20 CHECK (mass_removal_percent BETWEEN 0 AND 100);

ALTER TABLE runs
  ADD COLUMN dry_run boolean NOT NULL DEFAULT false,
  ADD COLUMN full_resync boolean NOT NULL DEFAULT false,
  ADD COLUMN confirm_removals boolean NOT NULL DEFAULT false,
  ADD COLUMN phase text NOT NULL DEFAULT 'queued'
    CHECK (phase IN ('queued', 'extracting', 'staging', 'sending', 'removing', 'finished')),
  ADD COLUMN progress_done integer NOT NULL DEFAULT 0,
  ADD COLUMN progress_total integer NOT NULL DEFAULT 0,
  ADD COLUMN added integer NOT NULL DEFAULT 0,
  ADD COLUMN updated integer NOT NULL DEFAULT 0,
  ADD COLUMN unchanged integer NOT NULL DEFAULT 0,
  ADD COLUMN removed integer NOT NULL DEFAULT 0;
-- Runs from before: every delivered contact was sent, as an added one.
UPDATE runs SET added = delivered,
  phase = CASE WHEN status IN ('succeeded', 'failed', 'skipped', 'canceled') THEN 'finished'
               WHEN status = 'running' THEN 'sending' ELSE 'queued' END;

-- Down Migration
ALTER TABLE runs DROP COLUMN removed, DROP COLUMN unchanged, DROP COLUMN updated, DROP COLUMN added,
  DROP COLUMN progress_total, DROP COLUMN progress_done, DROP COLUMN phase, DROP COLUMN confirm_removals,
  DROP COLUMN full_resync, DROP COLUMN dry_run;
ALTER TABLE exports DROP COLUMN mass_removal_percent, DROP COLUMN sync_mode;
