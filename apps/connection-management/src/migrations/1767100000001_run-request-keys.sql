-- Up Migration
-- Idempotency-Key of on-demand run requests: per export, kept 24 h (same key, same run, same answer).
CREATE TABLE run_request_keys (
  tenant_id text NOT NULL,
  export_id uuid NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
  idempotency_key text NOT NULL,
  run_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, export_id, idempotency_key)
);
CREATE INDEX run_request_keys_created_idx ON run_request_keys (created_at);

-- Down Migration
DROP TABLE run_request_keys;
