import {
  DEFAULT_MASS_REMOVAL_PERCENT,
  FieldMapping,
  Id,
  LimitPolicy,
  MassRemovalPercent,
  MAX_PROFILES_PER_RUN,
  ProfileLimit,
  SyncMode,
} from '@export/contracts';
import { z } from 'zod';

const ListName = z.string().trim().min(1).max(200);

const fields = {
  name: z.string().trim().min(1).max(200),
  connectionId: z.uuid(),
  segmentIds: z
    .array(Id)
    .min(1, 'at least one segment is required')
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, 'segment ids must be unique'),
  mapping: FieldMapping.superRefine((mapping, ctx) => {
    const seen = new Set<string>();
    mapping.custom?.forEach((c, i) => {
      if (seen.has(c.field.toLowerCase()))
        ctx.addIssue({ code: 'custom', path: ['custom', i, 'field'], message: 'duplicate field' });
      seen.add(c.field.toLowerCase());
    });
  }),
  limitPolicy: LimitPolicy,
  profileLimit: ProfileLimit,
  listNames: z.record(Id, ListName),
  syncMode: SyncMode,
  /** A run removing more than this share (percent) of a list removes nothing (MASS_REMOVAL_HELD). */
  massRemovalPercent: MassRemovalPercent,
};

export const CreateExportBody = z.object({
  ...fields,
  limitPolicy: fields.limitPolicy.default('skip'),
  profileLimit: fields.profileLimit.default(MAX_PROFILES_PER_RUN),
  listNames: fields.listNames.default({}),
  // Exports created from now on mirror their segments; those created before keep `upsert` (migration).
  syncMode: fields.syncMode.default('mirror'),
  massRemovalPercent: fields.massRemovalPercent.default(DEFAULT_MASS_REMOVAL_PERCENT),
});
export type CreateExportBody = z.infer<typeof CreateExportBody>;

/** PATCH replaces the fields it names; the merged export is validated as a whole again. */
export const UpdateExportBody = z.object(fields).partial();
export type UpdateExportBody = z.infer<typeof UpdateExportBody>;
