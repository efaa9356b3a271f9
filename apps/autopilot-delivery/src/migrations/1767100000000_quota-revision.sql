-- Up Migration
-- Every change of a tenant's month figure (a reservation, a give-back) gets the next revision: the control plane
-- keeps the figure of the newest revision, so a give-back (a lower figure) is never lost to an older, higher one.
ALTER TABLE delivery.quota_usage ADD COLUMN revision bigint NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE delivery.quota_usage DROP COLUMN revision;
