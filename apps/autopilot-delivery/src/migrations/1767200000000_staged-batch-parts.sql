-- Up Migration
-- Issue 11: field mapping splits a mapped batch too large for one Kafka message into parts (contacts-mapped.v1
-- `part`/`parts`). Each part is staged once, keyed (run_id, batch_seq, part), so a redelivered part changes
-- nothing; a batch counts as staged once all its parts are. Rows staged before are part 0 of 1.
ALTER TABLE delivery.staged_batches
  ADD COLUMN part integer NOT NULL DEFAULT 0,
  ADD COLUMN parts integer NOT NULL DEFAULT 1,
  ADD CONSTRAINT staged_batches_part_of_parts CHECK (part >= 0 AND part < parts);
ALTER TABLE delivery.staged_batches DROP CONSTRAINT staged_batches_pkey;
ALTER TABLE delivery.staged_batches ADD CONSTRAINT staged_batches_pkey PRIMARY KEY (run_id, batch_seq, part);

-- Down Migration
DELETE FROM delivery.staged_batches WHERE part > 0;
ALTER TABLE delivery.staged_batches DROP CONSTRAINT staged_batches_pkey;
ALTER TABLE delivery.staged_batches ADD CONSTRAINT staged_batches_pkey PRIMARY KEY (run_id, batch_seq);
ALTER TABLE delivery.staged_batches DROP CONSTRAINT staged_batches_part_of_parts, DROP COLUMN parts, DROP COLUMN part;
