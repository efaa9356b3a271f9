-- Up Migration
-- The month figure of each tenant's quota at the end of each UTC day (the newest figure recorded that day), so
-- the quota API can show the month per day. One row per tenant and day.
CREATE TABLE tenant_quota_days (
  tenant_id text NOT NULL,
  day date NOT NULL,
  used integer NOT NULL,
  PRIMARY KEY (tenant_id, day)
);

-- Down Migration
DROP TABLE tenant_quota_days;
