import { createHash } from 'node:crypto';
import {
  RUN_PHASES,
  type DeliveryCounts,
  type RunCounts,
  type RunPhase,
  type RowRejection,
  type RunRejection,
  type RunSpec,
  type RunStatus,
  type RunTrigger,
} from '@export/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@export/database';
import type { Queryable } from '../database/database';
import type { TenantId } from '../database/tenant';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'skipped', 'canceled'];

/** How a run was asked for. */
export interface RunOptions {
  dryRun: boolean;
  fullResync: boolean;
  confirmRemovals: boolean;
}

export interface RunRecord {
  id: string;
  tenantId: string;
  exportId: string;
  status: RunStatus;
  trigger: RunTrigger;
  reason: string | null;
  message: string | null;
  correlationId: string;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  options: RunOptions;
  phase: RunPhase;
  /** Of the current phase. */
  progress: { done: number; total: number };
  counts: RunCounts;
}

interface RunRow {
  id: string;
  tenant_id: string;
  export_id: string;
  status: RunStatus;
  trigger: RunTrigger;
  reason: string | null;
  message: string | null;
  correlation_id: string;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  extracted: number;
  rejected: number;
  duplicates: number;
  eligible: number;
  delivered: number;
  failed: number;
  over_limit: number;
  over_quota: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  dry_run: boolean;
  full_resync: boolean;
  confirm_removals: boolean;
  phase: RunPhase;
  progress_done: number;
  progress_total: number;
}

const COLUMNS = `id, tenant_id, export_id, status, trigger, reason, message, correlation_id, queued_at, started_at, finished_at,
  extracted, rejected, duplicates, eligible, delivered, failed, over_limit, over_quota, added, updated, unchanged, removed,
  dry_run, full_resync, confirm_removals, phase, progress_done, progress_total`;

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    exportId: r.export_id,
    status: r.status,
    trigger: r.trigger,
    reason: r.reason,
    message: r.message,
    correlationId: r.correlation_id,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    options: { dryRun: r.dry_run, fullResync: r.full_resync, confirmRemovals: r.confirm_removals },
    phase: r.phase,
    progress: { done: r.progress_done, total: r.progress_total },
    counts: {
      extracted: r.extracted,
      rejected: r.rejected,
      duplicates: r.duplicates,
      eligible: r.eligible,
      added: r.added,
      updated: r.updated,
      unchanged: r.unchanged,
      removed: r.removed,
      delivered: r.delivered,
      failed: r.failed,
      overLimit: r.over_limit,
      overQuota: r.over_quota,
    },
  };
}

export interface NewRun {
  id: string;
  exportId: string;
  trigger: RunTrigger;
  eventId: string;
  correlationId: string;
  /** Absent: a plain run. */
  options?: RunOptions;
}

@Injectable()
export class RunsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Queues a run; false when this export already has a run for this event (a redelivered event). */
  async insertQueued(tenant: TenantId, run: NewRun, db: Queryable): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO runs (id, tenant_id, export_id, status, trigger, event_id, correlation_id, dry_run, full_resync,
                         confirm_removals)
       VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9) ON CONFLICT (export_id, event_id) DO NOTHING`,
      [
        run.id,
        tenant,
        run.exportId,
        run.trigger,
        run.eventId,
        run.correlationId,
        run.options?.dryRun ?? false,
        run.options?.fullResync ?? false,
        run.options?.confirmRemovals ?? false,
      ],
    );
    return (rowCount ?? 0) > 0;
  }

  async find(tenant: TenantId, id: string, db: Queryable = this.pool): Promise<RunRecord | undefined> {
    const { rows } = await db.query<RunRow>(`SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND id = $2`, [
      tenant,
      id,
    ]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** The run with the spec it was started with (null while it is queued), for the internal run confirmation. */
  async findWithSpec(
    tenant: TenantId,
    id: string,
  ): Promise<{ record: RunRecord; spec: unknown } | undefined> {
    const { rows } = await this.pool.query<RunRow & { spec: unknown }>(
      `SELECT ${COLUMNS}, spec FROM runs WHERE tenant_id = $1 AND id = $2`,
      [tenant, id],
    );
    return rows[0] ? { record: toRecord(rows[0]), spec: rows[0].spec } : undefined;
  }

  async lock(tenant: TenantId, id: string, db: Queryable): Promise<RunRecord | undefined> {
    const { rows } = await db.query<RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenant, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async listForExport(tenant: TenantId, exportId: string, limit: number): Promise<RunRecord[]> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND export_id = $2 ORDER BY queued_at DESC, id DESC LIMIT $3`,
      [tenant, exportId, limit],
    );
    return rows.map(toRecord);
  }

  async hasRunning(tenant: TenantId, exportId: string, db: Queryable): Promise<boolean> {
    const { rowCount } = await db.query(
      `SELECT 1 FROM runs WHERE tenant_id = $1 AND export_id = $2 AND status = 'running'`,
      [tenant, exportId],
    );
    return (rowCount ?? 0) > 0;
  }

  async hasQueued(tenant: TenantId, exportId: string, db: Queryable): Promise<boolean> {
    const { rowCount } = await db.query(
      `SELECT 1 FROM runs WHERE tenant_id = $1 AND export_id = $2 AND status = 'queued' LIMIT 1`,
      [tenant, exportId],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The run an Idempotency-Key of this export named within the last 24 h (older keys are forgotten here). */
  async runOfRequestKey(tenant: TenantId, exportId: string, key: string, db: Queryable): Promise<string | undefined> {
    await db.query(
      `DELETE FROM run_request_keys WHERE tenant_id = $1 AND export_id = $2 AND created_at <= now() - interval '24 hours'`,
      [tenant, exportId],
    );
    const { rows } = await db.query<{ run_id: string }>(
      'SELECT run_id FROM run_request_keys WHERE tenant_id = $1 AND export_id = $2 AND idempotency_key = $3',
      [tenant, exportId, key],
    );
    return rows[0]?.run_id;
  }

  async rememberRequestKey(tenant: TenantId, exportId: string, key: string, runId: string, db: Queryable): Promise<void> {
    await db.query(
      'INSERT INTO run_request_keys (tenant_id, export_id, idempotency_key, run_id) VALUES ($1, $2, $3, $4)',
      [tenant, exportId, key, runId],
    );
  }

  async hasActive(tenant: TenantId, exportId: string, db: Queryable = this.pool): Promise<boolean> {
    const { rowCount } = await db.query(
      `SELECT 1 FROM runs WHERE tenant_id = $1 AND export_id = $2 AND status IN ('queued', 'running')`,
      [tenant, exportId],
    );
    return (rowCount ?? 0) > 0;
  }

  async oldestQueued(tenant: TenantId, exportId: string, db: Queryable): Promise<RunRecord | undefined> {
    const { rows } = await db.query<RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE tenant_id = $1 AND export_id = $2 AND status = 'queued'
        ORDER BY queued_at, id LIMIT 1 FOR UPDATE`,
      [tenant, exportId],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async markRunning(tenant: TenantId, id: string, spec: RunSpec, db: Queryable): Promise<void> {
    await db.query(
      `UPDATE runs SET status = 'running', started_at = now(), spec = $3, phase = 'extracting'
        WHERE tenant_id = $1 AND id = $2`,
      [tenant, id, spec],
    );
  }

  /** Moves a run to a terminal status; a run that already ended keeps its first outcome. */
  async finish(
    tenant: TenantId,
    id: string,
    outcome: { status: RunStatus; reason?: string; message?: string },
    db: Queryable,
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE runs SET status = $3, reason = $4, message = $5, finished_at = now(), phase = 'finished'
        WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')`,
      [tenant, id, outcome.status, outcome.reason ?? null, outcome.message ?? null],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Counts are absolute (events carry totals), so applying an event twice changes nothing. */
  async setCounts(
    tenant: TenantId,
    id: string,
    counts: Partial<DeliveryCounts> & { extracted?: number },
    db: Queryable,
  ): Promise<void> {
    await db.query(
      `UPDATE runs SET
         extracted = COALESCE($3, extracted), duplicates = COALESCE($4, duplicates), eligible = COALESCE($5, eligible),
         delivered = COALESCE($6, delivered), failed = COALESCE($7, failed), over_limit = COALESCE($8, over_limit),
         over_quota = COALESCE($9, over_quota), added = COALESCE($10, added), updated = COALESCE($11, updated),
         unchanged = COALESCE($12, unchanged), removed = COALESCE($13, removed)
       WHERE tenant_id = $1 AND id = $2`,
      [
        tenant,
        id,
        counts.extracted ?? null,
        counts.duplicates ?? null,
        counts.eligible ?? null,
        counts.delivered ?? null,
        counts.failed ?? null,
        counts.overLimit ?? null,
        counts.overQuota ?? null,
        // A producer before incremental sync sent every delivered contact: all of them added.
        counts.added ?? (counts.delivered !== undefined && counts.updated === undefined ? counts.delivered : null),
        counts.updated ?? null,
        counts.unchanged ?? null,
        counts.removed ?? null,
      ],
    );
  }

  /**
   * Moves the run to `phase` (never back: a late event of an earlier phase changes nothing) and records the
   * progress of the phase it is in when given.
   */
  async setPhase(
    tenant: TenantId,
    id: string,
    phase: RunPhase,
    progress: { done: number; total: number } | undefined,
    db: Queryable,
  ): Promise<void> {
    await db.query(
      `UPDATE runs SET phase = $3,
         progress_done = CASE WHEN $4::int IS NOT NULL THEN $4 WHEN phase = $3 THEN progress_done ELSE 0 END,
         progress_total = CASE WHEN $5::int IS NOT NULL THEN $5 WHEN phase = $3 THEN progress_total ELSE 0 END
       WHERE tenant_id = $1 AND id = $2 AND array_position($6::text[], phase) <= array_position($6::text[], $3)`,
      [tenant, id, phase, progress?.done ?? null, progress?.total ?? null, RUN_PHASES],
    );
  }

  /**
   * Stores a rows-rejected event: adds the rows not counted before to `rejected` (incrementally, never by
   * recounting stored rows) and stores them while the run holds fewer than `maxStored` (the first rows in
   * event order are kept). Redelivery changes nothing: an event seen before (same row identities) is
   * recognised by its digest, a row already stored is not counted again. The caller holds the run's lock.
   */
  async addRejections(
    tenant: TenantId,
    runId: string,
    stage: string,
    rejections: RowRejection[],
    db: Queryable,
    maxStored: number,
  ): Promise<void> {
    const digest = createHash('sha256')
      .update(stage)
      .update(JSON.stringify(rejections.map((r) => [r.segmentId, r.partition, r.line])))
      .digest('base64url');
    const seen = await db.query(
      `INSERT INTO rejection_events (run_id, digest)
       SELECT id, $3 FROM runs WHERE tenant_id = $1 AND id = $2 ON CONFLICT DO NOTHING`,
      [tenant, runId, digest],
    );
    if ((seen.rowCount ?? 0) === 0) return;
    await db.query(
      `WITH incoming AS (
         SELECT DISTINCT ON (r.segment_id, r.partition, r.line) r.*
           FROM jsonb_to_recordset($5::jsonb)
                AS r(n integer, segment_id text, partition text, line integer, profile_id text, reason text)
          ORDER BY r.segment_id, r.partition, r.line, r.n),
       fresh AS (
         SELECT i.* FROM incoming i
          WHERE NOT EXISTS (SELECT 1 FROM rejections x WHERE x.run_id = $2
                              AND (x.segment_id, x.partition, x.line) = (i.segment_id, i.partition, i.line))),
       stored AS (
         INSERT INTO rejections (run_id, tenant_id, segment_id, partition, line, profile_id, stage, reason)
         SELECT $2, $1, f.segment_id, f.partition, f.line, f.profile_id, $3, f.reason FROM fresh f
          ORDER BY f.n
          LIMIT GREATEST(0, $4 - (SELECT rejections_stored FROM runs WHERE tenant_id = $1 AND id = $2))
         ON CONFLICT (run_id, segment_id, partition, line) DO NOTHING
         RETURNING 1)
       UPDATE runs SET rejected = rejected + (SELECT count(*) FROM fresh),
                       rejections_stored = rejections_stored + (SELECT count(*) FROM stored)
        WHERE tenant_id = $1 AND id = $2`,
      [
        tenant,
        runId,
        stage,
        maxStored,
        JSON.stringify(
          rejections.map((r, n) => ({
            n,
            segment_id: r.segmentId,
            partition: r.partition,
            line: r.line,
            profile_id: r.profileId ?? null,
            reason: r.reason,
          })),
        ),
      ],
    );
  }

  /** One page of rejections in row order; `after` is the last row of the previous page. */
  async listRejections(
    tenant: TenantId,
    runId: string,
    limit: number,
    after?: { segmentId: string; partition: string; line: number },
  ): Promise<RunRejection[]> {
    const { rows } = await this.pool.query<{
      segment_id: string;
      partition: string;
      line: number;
      profile_id: string | null;
      stage: string;
      reason: string;
    }>(
      `SELECT segment_id, partition, line, profile_id, stage, reason FROM rejections
        WHERE tenant_id = $1 AND run_id = $2 AND ($3::text IS NULL OR (segment_id, partition, line) > ($3, $4, $5))
        ORDER BY segment_id, partition, line LIMIT $6`,
      [tenant, runId, after?.segmentId ?? null, after?.partition ?? null, after?.line ?? null, limit],
    );
    return rows.map((r) => ({
      segmentId: r.segment_id,
      partition: r.partition,
      line: r.line,
      ...(r.profile_id ? { profileId: r.profile_id } : {}),
      stage: r.stage,
      reason: r.reason,
    }));
  }
}
