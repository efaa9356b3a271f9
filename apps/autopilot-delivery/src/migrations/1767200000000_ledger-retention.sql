-- Up Migration
-- Retention of the ledger (staged contacts are personal data). When a run ends its contacts are deleted in
-- batches (contacts_purged_at records that it is done), after a succeeded run's delivered contacts have
-- become its export's state: what the export's next run needs (incremental sync builds on it).
ALTER TABLE delivery.runs
  -- distinct e-mails staged so far: a skip run stops staging once it is over the profile limit
  ADD COLUMN unique_staged integer NOT NULL DEFAULT 0,
  ADD COLUMN staging_stopped boolean NOT NULL DEFAULT false,
  ADD COLUMN contacts_purged_at timestamptz;
CREATE INDEX runs_contacts_to_purge ON delivery.runs (finished_at)
  WHERE contacts_purged_at IS NULL AND state IN ('succeeded', 'failed', 'skipped', 'canceled');
CREATE INDEX runs_finished ON delivery.runs (finished_at) WHERE finished_at IS NOT NULL;
-- run_contacts is a queue of sorts (100k rows in, 100k rows out per run): vacuum it after every 10k dead
-- rows rather than after 20% of the table, so the space of released runs is reused by the next ones and
-- the table stays at about one run's size instead of growing between autovacuum rounds.
ALTER TABLE delivery.run_contacts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_cost_delay = 0);
CREATE INDEX runs_staging_since ON delivery.runs (created_at) WHERE state = 'staging';

-- Per export, the run whose delivered contacts export_contacts holds (the newest succeeded run).
CREATE TABLE delivery.export_state (
  tenant_id text NOT NULL,
  export_id text NOT NULL,
  run_id uuid NOT NULL,
  run_finished_at timestamptz NOT NULL,
  contacts integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, export_id)
);

-- What the export's last successful run delivered: e-mail, md5 of the contact as sent (jsonb text is
-- canonical: keys sorted), the segments (lists) it joined, the run that delivered it. No other personal data.
CREATE TABLE delivery.export_contacts (
  tenant_id text NOT NULL,
  export_id text NOT NULL,
  email text NOT NULL,
  contact_hash text NOT NULL,
  segment_ids text[] NOT NULL,
  run_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, export_id, email)
);
ALTER TABLE delivery.export_contacts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- Down Migration
ALTER TABLE delivery.run_contacts RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
  autovacuum_vacuum_cost_delay);
DROP TABLE delivery.export_contacts;
DROP TABLE delivery.export_state;
DROP INDEX delivery.runs_staging_since;
DROP INDEX delivery.runs_finished;
DROP INDEX delivery.runs_contacts_to_purge;
ALTER TABLE delivery.runs DROP COLUMN contacts_purged_at, DROP COLUMN staging_stopped, DROP COLUMN unique_staged;
