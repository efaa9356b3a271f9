import { z } from 'zod';
import { RowRejection } from '../common/contact';
import { RunTrigger } from '../common/run-spec';

/**
 * Runs as the control plane's REST API answers them (PRODUCT.md, REST API): GET /v1/runs/{id},
 * GET /v1/exports/{id}/runs, the run's rejections. Shared so the web console reads what the API writes.
 */
export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'skipped', 'canceled']);
export type RunStatus = z.infer<typeof RunStatus>;

/** A run still to finish: the only ones a cancel or a new run's check looks at. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running'];

/** Where a run is, in order: a run only ever moves forward. */
export const RUN_PHASES = ['queued', 'extracting', 'staging', 'sending', 'removing', 'finished'] as const;
export const RunPhase = z.enum(RUN_PHASES);
export type RunPhase = z.infer<typeof RunPhase>;

const count = z.number().int().min(0);

export const RunCounts = z.object({
  extracted: count,
  rejected: count,
  duplicates: count,
  eligible: count,
  /** Sent because new to the export. */
  added: count,
  /** Sent because their fields or lists changed. */
  updated: count,
  /** Eligible, not sent (nothing changed). */
  unchanged: count,
  /** Leavers removed from a segment's list (mirror). */
  removed: count,
  /** added + updated. */
  delivered: count,
  failed: count,
  overLimit: count,
  overQuota: count,
});
export type RunCounts = z.infer<typeof RunCounts>;

export const RunView = z.object({
  id: z.string(),
  exportId: z.string(),
  status: RunStatus,
  trigger: RunTrigger,
  /** Why it failed or was skipped, or a succeeded run's notice (e.g. MASS_REMOVAL_HELD). */
  reason: z.string().optional(),
  message: z.string().optional(),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** A dry run: its counts are what a real run would do; nothing was called or changed. */
  dryRun: z.boolean(),
  fullResync: z.boolean(),
  confirmRemovals: z.boolean(),
  phase: RunPhase,
  /** Of the current phase. */
  progress: z.object({ done: count, total: count }),
  counts: RunCounts,
});
export type RunView = z.infer<typeof RunView>;

/** A rejected row of a run (GET /v1/runs/{id}/rejections), with the stage that rejected it. */
export const RunRejection = RowRejection.extend({ stage: z.string() });
export type RunRejection = z.infer<typeof RunRejection>;
