import { z } from 'zod';
import { RowRejection } from '../common/contact';
import { Id, IsoDateTime, STORABLE_TEXT_MESSAGE, STORABLE_TEXT_PATTERN, RunId, safeText, TenantId, TEXT_LIMITS } from '../common/primitives';

export const RunStage = z.enum(['control-plane', 'extraction', 'mapping', 'delivery']);
export type RunStage = z.infer<typeof RunStage>;

/** The failure codes this version produces (producers are held to them by the type). */
export const RunFailureCode = z.enum([
  'SNAPSHOT_UNREADABLE',
  'ENTITY_NOT_FOUND',
  'INVALID_SNAPSHOT',
  /** A location (or a partition of model.json) that does not resolve to a file inside <SNAPSHOT_ROOT>/<tenantId>/. */
  'SNAPSHOT_OUTSIDE_TENANT_ROOT',
  /** Inside the tenant folder, but no regular file (a FIFO, a device, a directory). */
  'SNAPSHOT_NOT_REGULAR_FILE',
  /** A file (or model.json) over its size cap. */
  'SNAPSHOT_TOO_LARGE',
  /** More columns (CSV header or model attributes) than the cap. */
  'SNAPSHOT_TOO_MANY_COLUMNS',
  'CONNECTION_MISSING',
  'API_KEY_REJECTED',
  'DESTINATION_UNAVAILABLE',
  'DESTINATION_FORBIDDEN',
  'DESTINATION_LIST_MISSING',
  'RATE_LIMITED_TOO_LONG',
  'INTERNAL_ERROR',
]);
export type RunFailureCode = z.infer<typeof RunFailureCode>;

/**
 * A failure code as it travels: any upper-case code, not only the ones this version knows, so a producer
 * deployed with a new code never makes a consumer deployed before it refuse the event (it shows the code).
 */
export const FailureCodeOnWire = safeText(TEXT_LIMITS.code);

export const SkipReason = z.enum(['PROFILE_LIMIT_EXCEEDED', 'QUOTA_EXCEEDED']);
export type SkipReason = z.infer<typeof SkipReason>;

/** Absolute counts (never increments) so that a redelivered event changes nothing. */
export const DeliveryCounts = z.object({
  duplicates: z.number().int().min(0),
  eligible: z.number().int().min(0),
  delivered: z.number().int().min(0),
  failed: z.number().int().min(0),
  overLimit: z.number().int().min(0),
  overQuota: z.number().int().min(0),
  /**
   * Incremental sync (absent from producers before it): eligible contacts new to the export, changed (fields or
   * lists), unchanged (no call), and leavers removed from a list. `delivered` = added + updated sent.
   */
  added: z.number().int().min(0).optional(),
  updated: z.number().int().min(0).optional(),
  unchanged: z.number().int().min(0).optional(),
  removed: z.number().int().min(0).optional(),
});
export type DeliveryCounts = z.infer<typeof DeliveryCounts>;

/** What a delivering run is doing: sending adds and updates, then removing leavers from lists. */
export const DeliveryPhase = z.enum(['sending', 'removing']);
export type DeliveryPhase = z.infer<typeof DeliveryPhase>;

/** Progress of the current phase. */
export const PhaseProgress = z.object({ done: z.number().int().min(0), total: z.number().int().min(0) });
export type PhaseProgress = z.infer<typeof PhaseProgress>;

/** Something a succeeded run reports without failing, e.g. MASS_REMOVAL_HELD with the count held. */
export const RunNotice = z.object({
  code: FailureCodeOnWire,
  message: z.string().max(TEXT_LIMITS.message).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
});
export type RunNotice = z.infer<typeof RunNotice>;

const base = { runId: RunId, tenantId: TenantId, at: IsoDateTime };

/** Everything a stage reports about a run to the control plane. Key: runId. */
export const RunEventV1 = z.discriminatedUnion('type', [
  z.object({ type: z.literal('extraction-started'), ...base }),
  z.object({ type: z.literal('extraction-completed'), ...base, extracted: z.number().int().min(0) }),
  z.object({ type: z.literal('rows-rejected'), ...base, stage: RunStage, rejections: z.array(RowRejection).min(1) }),
  z.object({ type: z.literal('delivery-started'), ...base, counts: DeliveryCounts }),
  z.object({
    type: z.literal('delivery-progress'),
    ...base,
    counts: DeliveryCounts,
    /** Absent from producers before incremental sync: `sending`. */
    phase: DeliveryPhase.optional(),
    progress: PhaseProgress.optional(),
  }),
  z.object({
    type: z.literal('delivery-completed'),
    ...base,
    counts: DeliveryCounts,
    /** A dry run: the counts are what a real run would do; nothing was called or changed. */
    dryRun: z.boolean().optional(),
    notice: RunNotice.optional(),
  }),
  z.object({ type: z.literal('run-skipped'), ...base, reason: SkipReason, message: safeText(TEXT_LIMITS.message), counts: DeliveryCounts }),
  z.object({
    type: z.literal('run-failed'),
    ...base,
    stage: RunStage,
    code: FailureCodeOnWire,
    message: z.string().max(TEXT_LIMITS.message).regex(STORABLE_TEXT_PATTERN, STORABLE_TEXT_MESSAGE),
    counts: DeliveryCounts.optional(),
  }),
  z.object({ type: z.literal('run-canceled'), ...base, counts: DeliveryCounts.optional() }),
  z.object({ type: z.literal('connection-key-rejected'), ...base, connectionId: Id }),
  z.object({
    type: z.literal('quota-usage'),
    ...base,
    month: z.string().regex(/^\d{4}-\d{2}$/),
    used: z.number().int().min(0),
    /**
     * Grows with every change of the month figure (reservations and give-backs): consumers keep the newest.
     * Absent from producers before it: then the higher figure wins, as before.
     */
    revision: z.number().int().min(0).optional(),
  }),
]);
export type RunEventV1 = z.infer<typeof RunEventV1>;
export type RunEventType = RunEventV1['type'];
