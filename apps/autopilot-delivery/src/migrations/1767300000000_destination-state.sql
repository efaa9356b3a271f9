-- Up Migration
-- Issue 12 (incremental mirror sync). What delivery knows Autopilot holds, per connection and export (a rotated
-- key keeps it; another connection starts from nothing): for each e-mail the contact id Autopilot returned, the
-- md5 of the contact as last written (jsonb text is canonical), the segments it was sent for and the list each
-- of them joined (aligned arrays). A row is written in the statement that marks its contact sent, after
-- Autopilot confirmed the call: a crash leaves a contact either recorded as sent or to be sent again.
CREATE TABLE delivery.destination_contacts (
  tenant_id text NOT NULL,
  connection_id text NOT NULL,
  export_id text NOT NULL,
  email text NOT NULL,
  contact_id text,
  contact_hash text NOT NULL,
  segment_ids text[] NOT NULL,
  list_ids text[] NOT NULL,
  run_id uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, connection_id, export_id, email)
);
-- Whether another export of the connection still puts an e-mail in a list.
CREATE INDEX destination_contacts_by_email ON delivery.destination_contacts (tenant_id, connection_id, email);
ALTER TABLE delivery.destination_contacts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- An export whose destination state is authoritative (seeded or written by a run). Until then a run reads the
-- export's last successful delivery (delivery.export_contacts) as its state.
CREATE TABLE delivery.destination_exports (
  tenant_id text NOT NULL,
  connection_id text NOT NULL,
  export_id text NOT NULL,
  seeded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, connection_id, export_id)
);

-- The diff of a run: contacts it leaves unchanged are not sent (status 'unchanged'), `change` says why the
-- others are sent.
ALTER TABLE delivery.run_contacts DROP CONSTRAINT run_contacts_status_check;
ALTER TABLE delivery.run_contacts ADD CONSTRAINT run_contacts_status_check
  CHECK (status IN ('pending', 'sent', 'failed', 'over_limit', 'over_quota', 'unchanged'));
ALTER TABLE delivery.run_contacts ADD COLUMN change text CHECK (change IN ('added', 'updated'));

-- Leavers of a mirror run: one row per (e-mail, list). `remove` calls DELETE /list/{list}/contact/{contact};
-- `forget` only drops the list from the export's state (another export or segment of the connection still puts
-- the contact in that list). `held`: over the mass-removal guard, nothing done.
CREATE TABLE delivery.run_removals (
  run_id uuid NOT NULL,
  email text NOT NULL,
  list_id text NOT NULL,
  segment_id text NOT NULL,
  contact_id text,
  action text NOT NULL CHECK (action IN ('remove', 'forget')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'held')),
  reason text,
  PRIMARY KEY (run_id, email, list_id)
);

ALTER TABLE delivery.runs
  ADD COLUMN added integer NOT NULL DEFAULT 0,
  ADD COLUMN updated integer NOT NULL DEFAULT 0,
  ADD COLUMN unchanged integer NOT NULL DEFAULT 0,
  ADD COLUMN removals_held integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE delivery.runs DROP COLUMN removals_held, DROP COLUMN unchanged, DROP COLUMN updated, DROP COLUMN added;
DROP TABLE delivery.run_removals;
ALTER TABLE delivery.run_contacts DROP COLUMN change;
DELETE FROM delivery.run_contacts WHERE status = 'unchanged';
ALTER TABLE delivery.run_contacts DROP CONSTRAINT run_contacts_status_check;
ALTER TABLE delivery.run_contacts ADD CONSTRAINT run_contacts_status_check
  CHECK (status IN ('pending', 'sent', 'failed', 'over_limit', 'over_quota'));
DROP TABLE delivery.destination_exports;
DROP TABLE delivery.destination_contacts;
