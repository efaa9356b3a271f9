import { z } from 'zod';
import { STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN, TEXT_LIMITS } from './primitives';

export const SnapshotFormat = z.enum(['cdm-folder', 'csv', 'jsonl']);
export type SnapshotFormat = z.infer<typeof SnapshotFormat>;

/** Where a refreshed segment's members can be read. `entity` picks the entity of a CDM folder. */
export const Snapshot = z
  .object({
    format: SnapshotFormat,
    location: z
      .string()
      .trim()
      .min(1)
      .max(TEXT_LIMITS.location)
      .regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE)
      .describe('file:// URI or path of model.json (cdm-folder) or of the file'),
    entity: z.string().trim().min(1).max(TEXT_LIMITS.name).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.format === 'cdm-folder' && !s.entity) {
      ctx.addIssue({ code: 'custom', path: ['entity'], message: 'entity is required when format is cdm-folder' });
    }
  });
export type Snapshot = z.infer<typeof Snapshot>;
