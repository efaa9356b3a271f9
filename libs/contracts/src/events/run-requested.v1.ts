import { z } from 'zod';
import { IsoDateTime } from '../common/primitives';
import { RunSpec } from '../common/run-spec';

/** Control plane -> extraction: start reading the snapshots of one run. Key: runId. */
export const RunRequestedV1 = z.object({
  run: RunSpec,
  requestedAt: IsoDateTime,
});
export type RunRequestedV1 = z.infer<typeof RunRequestedV1>;
