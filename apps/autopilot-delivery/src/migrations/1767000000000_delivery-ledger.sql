-- Up Migration
-- The delivery ledger: what was staged, what each run decided and what was sent. Every table is keyed so
-- that redelivered Kafka messages and restarted instances change nothing.

CREATE TABLE delivery.runs (
  run_id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  connection_id text,
  spec jsonb,
  correlation_id text,
  -- staging -> ready -> delivering -> succeeded | failed | skipped | canceled
  state text NOT NULL DEFAULT 'staging',
  expected_batches integer,
  extracted integer,
  staged_batches integer NOT NULL DEFAULT 0,
  mapped integer NOT NULL DEFAULT 0,
  cancel_requested boolean NOT NULL DEFAULT false,
  duplicates integer NOT NULL DEFAULT 0,
  over_limit integer NOT NULL DEFAULT 0,
  over_quota integer NOT NULL DEFAULT 0,
  quota_month text,
  quota_reserved integer NOT NULL DEFAULT 0,
  lease_owner text,
  lease_expires_at timestamptz,
  failure_code text,
  failure_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  ready_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX runs_workable ON delivery.runs (ready_at) WHERE state IN ('ready', 'delivering');

CREATE TABLE delivery.staged_batches (
  run_id uuid NOT NULL,
  batch_seq integer NOT NULL,
  contacts integer NOT NULL,
  staged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, batch_seq)
);

CREATE TABLE delivery.run_contacts (
  run_id uuid NOT NULL,
  email text NOT NULL,
  -- the smallest seq among duplicates: the stable order for truncation
  seq integer NOT NULL,
  contact jsonb NOT NULL,
  segment_ids text[] NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'over_limit', 'over_quota')),
  reason text,
  PRIMARY KEY (run_id, email)
);
CREATE INDEX run_contacts_by_status ON delivery.run_contacts (run_id, status, seq);

CREATE TABLE delivery.quota_usage (
  tenant_id text NOT NULL,
  month text NOT NULL,
  used integer NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (tenant_id, month)
);

-- Autopilot list ids by (hash of the API key, title): lists are created once per account.
CREATE TABLE delivery.lists (
  key_hash text NOT NULL,
  title text NOT NULL,
  list_id text NOT NULL,
  PRIMARY KEY (key_hash, title)
);

-- Down Migration
DROP TABLE delivery.lists;
DROP TABLE delivery.quota_usage;
DROP TABLE delivery.run_contacts;
DROP TABLE delivery.staged_batches;
DROP TABLE delivery.runs;
