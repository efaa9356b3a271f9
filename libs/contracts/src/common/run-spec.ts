import { z } from 'zod';
import { FieldMapping, LimitPolicy, MassRemovalPercent, ProfileLimit, SyncMode } from './mapping';
import { Id, STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN, RunId, safeText, TenantId, TEXT_LIMITS } from './primitives';
import { Snapshot } from './snapshot';

export const RunTrigger = z.enum(['segment-refresh', 'on-demand']);
export type RunTrigger = z.infer<typeof RunTrigger>;

export const RunSegment = z.object({
  segmentId: Id,
  segmentName: safeText(TEXT_LIMITS.name),
  /** Title of the Autopilot list this segment's contacts join. */
  listName: z.string().trim().min(1).max(200).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
  snapshot: Snapshot,
});
export type RunSegment = z.infer<typeof RunSegment>;

/**
 * Everything the pipeline needs to know about one export run. It travels with every pipeline message
 * so each stage is stateless between messages and can resume after a crash or a rebalance.
 */
export const RunSpec = z.object({
  runId: RunId,
  tenantId: TenantId,
  exportId: Id,
  connectionId: Id,
  trigger: RunTrigger,
  segments: z.array(RunSegment).min(1),
  mapping: FieldMapping,
  limitPolicy: LimitPolicy,
  profileLimit: ProfileLimit,
  /** The tenant's monthly quota at the time the run was requested; null means no quota is set. */
  quotaPerMonth: z.number().int().min(0).nullable(),
  /** Absent (a producer before incremental sync): `upsert`, as those runs behaved. */
  syncMode: SyncMode.optional(),
  /** Removals above this share of a list (percent) are held unless `confirmRemovals`; absent: 20. */
  massRemovalPercent: MassRemovalPercent.optional(),
  /** Compute what the run would do; call nothing, spend nothing, change no state. */
  dryRun: z.boolean().optional(),
  /** Send every contact again and rebuild the export's destination state. */
  fullResync: z.boolean().optional(),
  /** Apply removals even above `massRemovalPercent`. */
  confirmRemovals: z.boolean().optional(),
});
export type RunSpec = z.infer<typeof RunSpec>;
