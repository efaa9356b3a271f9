import { z } from 'zod';
import { IsoDateTime, RunId, TenantId } from '../common/primitives';

/** Control plane -> all stages: orders about a run in flight. Key: runId. */
export const RunControlV1 = z.object({
  type: z.literal('cancel'),
  runId: RunId,
  tenantId: TenantId,
  at: IsoDateTime,
});
export type RunControlV1 = z.infer<typeof RunControlV1>;
