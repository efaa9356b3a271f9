import { checkKafkaEnv, commonEnv, kafkaEnv } from '@export/config';
import { z } from 'zod';

export const SegmentExtractionConfig = z.object({
  ...commonEnv,
  ...kafkaEnv,
  /** Health, readiness and metrics. */
  PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  KAFKA_GROUP_ID: z.string().min(1).default('segment-extraction'),
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
}).superRefine(checkKafkaEnv);
export type SegmentExtractionConfig = z.infer<typeof SegmentExtractionConfig>;
