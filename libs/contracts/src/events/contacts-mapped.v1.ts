import { z } from 'zod';
import { AutopilotContact, MAX_EMAIL_LENGTH } from '../common/contact';
import { STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN, safeText, TEXT_LIMITS } from '../common/primitives';
import { RunSpec } from '../common/run-spec';

export const MappedContact = z.object({
  /** Stable order of the source row within the run (for `truncate` and for choosing among duplicates). */
  seq: z.number().int().min(0),
  /** Normalised (trimmed, lower-cased) e-mail: the de-duplication key. */
  email: z.string().min(3).max(MAX_EMAIL_LENGTH).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
  segmentId: safeText(TEXT_LIMITS.id),
  contact: AutopilotContact,
});
export type MappedContact = z.infer<typeof MappedContact>;

/**
 * Mapping -> delivery. Key: runId. Each extracted batch becomes one mapped batch with the same batchSeq
 * (possibly empty), or, when its contacts would make a message too large, several *parts* of it (`part` 0 to
 * `parts - 1`, each with its share of the contacts, the same batchSeq and `parts`), so delivery can tell when
 * it holds the whole run: every batch up to `end.batches`, every part of each. A batch without `part`/`parts`
 * (every batch before parts existed) is part 0 of 1. `end` carries the totals of the stages before it.
 */
export const ContactsMappedV1 = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('batch'),
      run: RunSpec,
      batchSeq: z.number().int().min(0),
      /** This part's number, from 0 (absent: 0). */
      part: z.number().int().min(0).optional(),
      /** How many parts the extracted batch was split into (absent: 1). */
      parts: z.number().int().min(1).optional(),
      contacts: z.array(MappedContact),
      /** Rows of the extracted batch mapping rejected (carried by part 0; the other parts carry 0). */
      rejected: z.number().int().min(0),
    })
    .refine((b) => (b.part ?? 0) < (b.parts ?? 1), { path: ['part'], message: 'part must be less than parts' }),
  z.object({
    kind: z.literal('end'),
    run: RunSpec,
    batches: z.number().int().min(0),
    extracted: z.number().int().min(0),
  }),
]);
export type ContactsMappedV1 = z.infer<typeof ContactsMappedV1>;
export type ContactsMappedBatch = Extract<ContactsMappedV1, { kind: 'batch' }>;
