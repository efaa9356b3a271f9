-- Up Migration
-- Revision of the month figure delivery reported last (quota-usage events): newest wins, give-backs included.
ALTER TABLE tenant_quotas ADD COLUMN usage_revision bigint;

-- Down Migration
ALTER TABLE tenant_quotas DROP COLUMN usage_revision;
