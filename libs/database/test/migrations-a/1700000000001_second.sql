-- Up Migration
ALTER TABLE items ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
-- Down Migration
ALTER TABLE items DROP COLUMN created_at;
