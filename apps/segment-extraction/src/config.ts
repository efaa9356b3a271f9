import { serviceConfig, snapshotEnv } from '@export/config';
import { z } from 'zod';

const bytes = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const SegmentExtractionConfig = serviceConfig('segment-extraction', 3001, {
  /** Every file a run reads must be a regular file inside `<SNAPSHOT_ROOT>/<tenantId>/` after symbolic links. */
  ...snapshotEnv,
  /** A partition, CSV or JSONL file larger than this fails the run (SNAPSHOT_TOO_LARGE). */
  SNAPSHOT_MAX_FILE_BYTES: bytes(1, Number.MAX_SAFE_INTEGER, 10 * 1024 ** 3),
  /** A model.json larger than this fails the run (it is parsed whole). */
  SNAPSHOT_MAX_MODEL_BYTES: bytes(1024, 1024 ** 3, 16 * 1024 ** 2),
  /** A CSV record or JSONL line longer than this is a row rejection; the rest of the file goes on. */
  SNAPSHOT_MAX_RECORD_BYTES: bytes(1024, 64 * 1024 ** 2, 1024 ** 2),
  /** More columns (CSV header, model.json attributes) fail the run; a JSONL object with more keys is rejected. */
  SNAPSHOT_MAX_COLUMNS: bytes(1, 100_000, 1000),
  /** Runs (Kafka partitions) extracted at the same time by one instance, so a big run does not hold back a small one. */
  KAFKA_PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** A batch closes at this many rows or at EXTRACTION_BATCH_BYTES of row JSON, whichever comes first. */
  EXTRACTION_BATCH_ROWS: z.coerce.number().int().min(1).max(10_000).default(500),
  EXTRACTION_BATCH_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(768 * 1024, 'must stay well under the broker message limit (1 MiB)')
    .default(256 * 1024),
  /** Batches sent before the first is acknowledged: enough to hide broker latency, few enough to keep memory flat. */
  EXTRACTION_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(32).default(4),
});
export type SegmentExtractionConfig = z.infer<typeof SegmentExtractionConfig>;
