import { z } from 'zod';
import { safeText, TEXT_LIMITS } from '../common/primitives';
import { RunSpec } from '../common/run-spec';

/** One raw profile row as read from the snapshot, with its origin and its place in the run's stable order. */
export const ExtractedRow = z.object({
  /** Position in the run's stable order (segment order, then partition order, then line). */
  seq: z.number().int().min(0),
  partition: safeText(TEXT_LIMITS.partition),
  line: z.number().int().min(1),
  /**
   * The row's values as the file holds them. Not checked here (no NUL or length cap): a bad value is a bad
   * row, which mapping rejects with its reason, naming the column; the rest of the batch goes on.
   */
  values: z.record(z.string(), z.string().nullable()),
});
export type ExtractedRow = z.infer<typeof ExtractedRow>;

/**
 * Extraction -> mapping. Key: runId (one partition per run keeps its messages in order).
 * Batches are numbered from 0 and deterministic, so a restarted extraction re-sends identical batches
 * that downstream stages recognise by (runId, batchSeq). `end` closes the stream with the totals.
 */
export const ProfilesExtractedV1 = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('batch'),
    run: RunSpec,
    batchSeq: z.number().int().min(0),
    segmentId: safeText(TEXT_LIMITS.id),
    rows: z.array(ExtractedRow),
  }),
  z.object({
    kind: z.literal('end'),
    run: RunSpec,
    batches: z.number().int().min(0),
    extracted: z.number().int().min(0),
    rejected: z.number().int().min(0),
  }),
]);
export type ProfilesExtractedV1 = z.infer<typeof ProfilesExtractedV1>;
