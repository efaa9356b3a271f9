-- Up Migration
-- Grows each time the API key is saved (and passed Autopilot's check): delivery's "key rejected" flag is
-- kept per version, so a key re-saved after a 401 is usable again at once, by every delivery instance.
ALTER TABLE connections ADD COLUMN key_version integer NOT NULL DEFAULT 1;

-- Down Migration
ALTER TABLE connections DROP COLUMN key_version;
