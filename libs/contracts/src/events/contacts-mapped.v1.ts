import { z } from 'zod';
import { AutopilotContact } from '../common/contact';
import { RunSpec } from '../common/run-spec';

export const MappedContact = z.object({
  /** Stable order of the source row within the run (for `truncate` and for choosing among duplicates). */
  seq: z.number().int().min(0),
  /** Normalised (trimmed, lower-cased) e-mail: the de-duplication key. */
  email: z.string().min(3),
  segmentId: z.string(),
  contact: AutopilotContact,
});
export type MappedContact = z.infer<typeof MappedContact>;

/**
 * Mapping -> delivery. Key: runId. One mapped batch per extracted batch (same batchSeq, possibly empty),
 * so delivery can tell when it holds the whole run. `end` carries the totals of the stages before it.
 */
export const ContactsMappedV1 = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('batch'),
    run: RunSpec,
    batchSeq: z.number().int().min(0),
    contacts: z.array(MappedContact),
    rejected: z.number().int().min(0),
  }),
  z.object({
    kind: z.literal('end'),
    run: RunSpec,
    batches: z.number().int().min(0),
    extracted: z.number().int().min(0),
  }),
]);
export type ContactsMappedV1 = z.infer<typeof ContactsMappedV1>;
