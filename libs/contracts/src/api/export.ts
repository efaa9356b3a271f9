import { z } from 'zod';
import { FieldMapping, LimitPolicy, SyncMode } from '../common/mapping';

/** An export as the control plane's REST API answers it (PRODUCT.md, REST API: /v1/exports). */
export const ExportView = z.object({
  id: z.string(),
  name: z.string(),
  connectionId: z.string().nullable(),
  /** `no-connection` after its connection was removed with ?detach=true: the export never runs. */
  state: z.enum(['ready', 'no-connection']),
  segmentIds: z.array(z.string()),
  mapping: FieldMapping,
  limitPolicy: LimitPolicy,
  profileLimit: z.number().int(),
  listNames: z.record(z.string(), z.string()),
  syncMode: SyncMode,
  /** A run removing more than this share (percent) of a list removes nothing (MASS_REMOVAL_HELD). */
  massRemovalPercent: z.number().int(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ExportView = z.infer<typeof ExportView>;
