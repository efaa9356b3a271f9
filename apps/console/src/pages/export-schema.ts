import { FieldMapping, Id, LimitPolicy, MassRemovalPercent, ProfileLimit, SyncMode } from '@export/contracts';
import { z } from 'zod';

/**
 * The export form, checked with the contracts' own pieces (the mapping, the limit policy, the 100,000 limit)
 * before anything is sent; the API checks the same again and has the last word.
 */
export const ExportForm = z.object({
  name: z.string().trim().min(1, 'required').max(200),
  connectionId: z.uuid('choose a connection'),
  segmentIds: z.array(Id).min(1, 'at least one segment is required').max(50),
  mapping: FieldMapping,
  limitPolicy: LimitPolicy,
  profileLimit: ProfileLimit,
  listNames: z.record(Id, z.string().trim().min(1).max(200)),
  syncMode: SyncMode,
  massRemovalPercent: MassRemovalPercent,
});
export type ExportForm = z.infer<typeof ExportForm>;
