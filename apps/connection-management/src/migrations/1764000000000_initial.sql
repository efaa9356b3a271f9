-- Up Migration
CREATE TABLE connections (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  type text NOT NULL DEFAULT 'autopilot',
  display_name text NOT NULL,
  -- AES-256-GCM, bound to tenant and id; wiped when the connection is deleted.
  api_key_encrypted text,
  api_key_last4 text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs-attention')),
  allow_contributors boolean NOT NULL DEFAULT false,
  export_users text[] NOT NULL DEFAULT '{}',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX connections_tenant_idx ON connections (tenant_id, created_at) WHERE deleted_at IS NULL;

CREATE TABLE segments (
  tenant_id text NOT NULL,
  id text NOT NULL,
  name text NOT NULL,
  member_count integer NOT NULL,
  snapshot jsonb NOT NULL,
  last_event_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  refreshed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE exports (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  -- null when the connection was removed with ?detach=true: the export keeps its settings and never runs.
  connection_id uuid REFERENCES connections (id),
  segment_ids text[] NOT NULL,
  mapping jsonb NOT NULL,
  limit_policy text NOT NULL DEFAULT 'skip' CHECK (limit_policy IN ('skip', 'truncate')),
  profile_limit integer NOT NULL DEFAULT 100000 CHECK (profile_limit BETWEEN 1 AND 100000),
  list_names jsonb NOT NULL DEFAULT '{}',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exports_tenant_idx ON exports (tenant_id, created_at);
CREATE INDEX exports_segments_idx ON exports USING gin (segment_ids);
CREATE INDEX exports_connection_idx ON exports (connection_id);

CREATE TABLE runs (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  export_id uuid NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'skipped', 'canceled')),
  trigger text NOT NULL CHECK (trigger IN ('segment-refresh', 'on-demand')),
  reason text,
  message text,
  -- The segment-refreshed event (or the on-demand request) that caused the run: redelivery creates nothing new.
  event_id text NOT NULL,
  correlation_id text NOT NULL,
  spec jsonb,
  queued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  extracted integer NOT NULL DEFAULT 0,
  rejected integer NOT NULL DEFAULT 0,
  duplicates integer NOT NULL DEFAULT 0,
  eligible integer NOT NULL DEFAULT 0,
  delivered integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  over_limit integer NOT NULL DEFAULT 0,
  over_quota integer NOT NULL DEFAULT 0,
  UNIQUE (export_id, event_id)
);
CREATE INDEX runs_tenant_export_idx ON runs (tenant_id, export_id, queued_at DESC);
-- Two runs of one export never deliver at the same time: the database refuses a second running run.
CREATE UNIQUE INDEX runs_one_running_per_export ON runs (export_id) WHERE status = 'running';

CREATE TABLE rejections (
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tenant_id text NOT NULL,
  segment_id text NOT NULL,
  partition text NOT NULL,
  line integer NOT NULL,
  profile_id text,
  stage text NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (run_id, segment_id, partition, line)
);

CREATE TABLE tenant_quotas (
  tenant_id text PRIMARY KEY,
  -- null: no quota set (usage is still recorded).
  profiles_per_month integer CHECK (profiles_per_month >= 0),
  month text NOT NULL,
  used integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: messages are written in the transaction that decides them and sent afterwards,
-- so a crash between the commit and the Kafka send loses nothing.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  message_key text NOT NULL,
  value jsonb NOT NULL,
  correlation_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE outbox;
DROP TABLE tenant_quotas;
DROP TABLE rejections;
DROP TABLE runs;
DROP TABLE exports;
DROP TABLE segments;
DROP TABLE connections;
