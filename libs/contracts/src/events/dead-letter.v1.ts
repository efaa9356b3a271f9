import { z } from 'zod';
import { IsoDateTime } from '../common/primitives';

/** A message no consumer can ever process, kept with the reason so nothing is silently dropped. */
export const DeadLetterV1 = z.object({
  sourceTopic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  key: z.string().nullable(),
  /** The original value as text (cut at 64 KiB). */
  value: z.string().nullable(),
  reason: z.string(),
  /**
   * Machine-readable class of the failure, e.g. INVALID_JSON, SCHEMA_MISMATCH, NON_RETRYABLE, or the code of a
   * refusal (SNAPSHOT_OUTSIDE_TENANT_ROOT, EVENT_FROM_THE_FUTURE).
   */
  code: z.string(),
  consumerGroup: z.string(),
  failedAt: IsoDateTime,
});
export type DeadLetterV1 = z.infer<typeof DeadLetterV1>;
