-- Up Migration
-- The backlog gauges read the runs not yet ended every few seconds on every instance: this keeps that a lookup
-- of a few rows however many ended runs the ledger still holds.
CREATE INDEX runs_active ON delivery.runs (state) INCLUDE (connection_id, unique_staged, lease_expires_at)
  WHERE state IN ('staging', 'ready', 'delivering');

-- Down Migration
DROP INDEX delivery.runs_active;
