import { randomUUID } from 'node:crypto';
import { RunSpec, TOPICS, type RunEventV1, type RunStatus, type SegmentRefreshedV1 } from '@export/contracts';
import { AppError, assertNever } from '@export/errors';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import { requireRole, type Principal } from '../auth/principal';
import type { ControlPlaneConfig } from '../config';
import { ConnectionsRepository } from '../connections/connections.repository';
import { inTransaction, type Queryable } from '../database/database';
import { PG_POOL } from '@export/database';
import { asTenantId, type TenantId } from '../database/tenant';
import { assertMayUseConnection } from '../exports/export-access';
import { ExportsRepository } from '../exports/exports.repository';
import { runsFinished, runsQueued, runsStarted } from '../metrics';
import { QuotasRepository } from '../quotas/quotas.repository';
import { SegmentsRepository } from '../segments/segments.repository';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OutboxRepository } from './outbox.repository';
import { parseInput } from '../http/parse-input';
import { RunsRepository, TERMINAL_STATUSES, type RunRecord } from './runs.repository';

/** `POST /v1/exports/:id/runs`: how the run is to be done (all optional; unknown keys are ignored). */
export const RunRequestBody = z.object({
  /** Compute the diff, limits and quota outcome; call nothing, spend nothing, change no state. */
  dryRun: z.boolean().optional(),
  /** Send every contact again and rebuild the export's destination state. */
  fullResync: z.boolean().optional(),
  /** Apply removals even when they exceed the export's mass-removal share. */
  confirmRemovals: z.boolean().optional(),
});

type Outcome = { status: RunStatus; reason?: string; message?: string };

/**
 * Turns segment refreshes and on-demand requests into runs, and run events into run state. Every decision
 * about an export's runs is taken under a lock on the export row, in the transaction that also writes the
 * messages it implies to the outbox, so a run is started at most once and its request is never lost.
 */
@Injectable()
export class RunsService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly runs: RunsRepository,
    private readonly exportsRepo: ExportsRepository,
    private readonly segments: SegmentsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly quotas: QuotasRepository,
    private readonly outbox: OutboxRepository,
    private readonly dispatcher: OutboxDispatcher,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /** Records the segment's latest snapshot and queues a run of every export of the tenant that includes it. */
  async onSegmentRefreshed(event: SegmentRefreshedV1, correlationId: string): Promise<string[]> {
    const tenant = asTenantId(event.tenantId);
    const queued = await inTransaction(this.pool, async (tx) => {
      await this.segments.upsertFromEvent(tenant, event, tx);
      const runIds: string[] = [];
      // Ordered by id, so concurrent transactions lock exports in the same order and cannot deadlock.
      for (const exportId of await this.exportsRepo.idsRunnableForSegment(tenant, event.segment.id, tx)) {
        const exp = await this.exportsRepo.lock(tenant, exportId, tx);
        if (!exp?.connectionId) continue;
        if (await this.runs.hasQueued(tenant, exportId, tx)) {
          // The queued run reads every segment's latest snapshot when it starts: another would repeat it.
          this.logger.info(
            { tenantId: tenant, exportId, segmentId: event.segment.id, correlationId },
            'refresh folded into the run already queued',
          );
          await this.startNextIfIdle(tenant, exportId, tx);
          continue;
        }
        const runId = randomUUID();
        const run = {
          id: runId,
          exportId,
          trigger: 'segment-refresh' as const,
          eventId: event.eventId,
          correlationId,
        };
        if (await this.runs.insertQueued(tenant, run, tx)) runIds.push(runId);
        await this.startNextIfIdle(tenant, exportId, tx);
      }
      return runIds;
    });
    for (const runId of queued) {
      runsQueued.inc({ trigger: 'segment-refresh' });
      this.logger.info(
        { tenantId: tenant, runId, segmentId: event.segment.id, correlationId },
        'run queued after segment refresh',
      );
    }
    this.dispatcher.kick();
    return queued;
  }

  /**
   * Queues a run on demand. With an `idempotencyKey`, a request repeated within 24 h (same export, same key)
   * answers with the run the first one queued and queues nothing.
   */
  async requestOnDemand(
    principal: Principal,
    exportId: string,
    correlationId: string,
    idempotencyKey?: string,
    body?: unknown,
  ): Promise<{ runId: string; status: 'queued' }> {
    requireRole(principal, 'admin', 'contributor');
    const options = parseInput(RunRequestBody, body ?? {});
    const tenant = principal.tenantId;
    const runId = randomUUID();
    const earlier = await inTransaction(this.pool, async (tx) => {
      const exp = await this.exportsRepo.lock(tenant, exportId, tx);
      if (!exp) throw new AppError('not-found', `Export ${exportId} not found`);
      if (!exp.connectionId)
        throw new AppError('conflict', 'The export has no connection: attach one before running it');
      assertMayUseConnection(principal, await this.connections.find(tenant, exp.connectionId, tx));
      const known = await this.segments.findMany(tenant, exp.segmentIds, tx);
      if (idempotencyKey) {
        const existing = await this.runs.runOfRequestKey(tenant, exportId, idempotencyKey, tx);
        if (existing) return existing;
      }
      const missing = exp.segmentIds.find((id) => !known.has(id));
      if (missing) throw new AppError('conflict', `Segment ${missing} has no snapshot yet`);
      if (idempotencyKey) await this.runs.rememberRequestKey(tenant, exportId, idempotencyKey, runId, tx);
      await this.runs.insertQueued(
        tenant,
        {
          id: runId,
          exportId,
          trigger: 'on-demand',
          eventId: `on-demand:${runId}`,
          correlationId,
          options: {
            dryRun: options.dryRun ?? false,
            fullResync: options.fullResync ?? false,
            confirmRemovals: options.confirmRemovals ?? false,
          },
        },
        tx,
      );
      await this.startNextIfIdle(tenant, exportId, tx);
      return undefined;
    });
    // The answer of the first request again: the run was queued by it (whatever its status is now).
    if (earlier) return { runId: earlier, status: 'queued' };
    runsQueued.inc({ trigger: 'on-demand' });
    this.logger.info(
      { tenantId: tenant, runId, exportId, correlationId, sub: principal.sub, ...options },
      'run queued on demand',
    );
    this.dispatcher.kick();
    return { runId, status: 'queued' };
  }

  async cancel(principal: Principal, runId: string, correlationId: string): Promise<RunRecord> {
    requireRole(principal, 'admin', 'contributor');
    const tenant = principal.tenantId;
    const result = await inTransaction(this.pool, async (tx) => {
      const run = await this.lockRunWithExport(tenant, runId, tx);
      if (!run) throw new AppError('not-found', `Run ${runId} not found`);
      // Stopping a run needs the same right as starting one, checked before anything about the run is told.
      const exp = await this.exportsRepo.find(tenant, run.exportId, tx);
      assertMayUseConnection(
        principal,
        exp?.connectionId ? await this.connections.find(tenant, exp.connectionId, tx) : undefined,
      );
      if (TERMINAL_STATUSES.includes(run.status))
        throw new AppError('conflict', `Run ${runId} already ended (${run.status})`);
      await this.runs.finish(
        tenant,
        runId,
        { status: 'canceled', reason: 'CANCELED', message: `Canceled by ${principal.sub}` },
        tx,
      );
      if (run.status === 'running') {
        // The stages stop on this order; the run is final here at once so the next queued run may start.
        const value = { type: 'cancel' as const, runId, tenantId: tenant, at: new Date().toISOString() };
        await this.outbox.add({ topic: TOPICS.runControl.name, key: runId, value, correlationId }, tx);
      }
      await this.startNextIfIdle(tenant, run.exportId, tx);
      return (await this.runs.find(tenant, runId, tx)) as RunRecord;
    });
    runsFinished.inc({ status: 'canceled' });
    this.logger.info({ tenantId: tenant, runId, correlationId, sub: principal.sub }, 'run canceled');
    this.dispatcher.kick();
    return result;
  }

  /** Applies one run event. Events for runs this service does not know are logged and ignored. */
  async onRunEvent(event: RunEventV1, correlationId: string): Promise<void> {
    const tenant = asTenantId(event.tenantId);
    const log = this.logger.child({
      tenantId: tenant,
      runId: event.runId,
      correlationId,
      eventType: event.type,
    });
    if (event.type === 'connection-key-rejected') {
      if (await this.connections.markNeedsAttention(tenant, event.connectionId)) {
        log.warn(
          { connectionId: event.connectionId },
          'Autopilot rejected the connection key: connection needs attention',
        );
      }
      return;
    }
    if (event.type === 'quota-usage') {
      await this.quotas.recordUsage(tenant, event.month, event.used, event.revision);
      return;
    }
    const finished = await inTransaction(this.pool, async (tx) => {
      const run = await this.lockRunWithExport(tenant, event.runId, tx);
      if (!run) {
        log.warn('run event for an unknown run; ignored');
        return undefined;
      }
      // Progress can arrive after the end (a send retried across a broker outage): a finished run's counts are final.
      if ((event.type === 'delivery-progress' || event.type === 'delivery-started') && isFinal(run.status)) {
        log.debug('late progress of a finished run; ignored');
        return undefined;
      }
      const outcome = await this.apply(tenant, event, tx);
      if (!outcome || !(await this.runs.finish(tenant, run.id, outcome, tx))) return undefined;
      await this.startNextIfIdle(tenant, run.exportId, tx);
      return outcome;
    });
    if (finished) {
      runsFinished.inc({ status: finished.status });
      log.info({ status: finished.status, reason: finished.reason }, 'run ended');
      this.dispatcher.kick();
    }
  }

  /** Writes what the event says; returns the final outcome when the event ends the run. */
  private async apply(
    tenant: TenantId,
    event: Exclude<RunEventV1, { type: 'connection-key-rejected' | 'quota-usage' }>,
    tx: Queryable,
  ) {
    const id = event.runId;
    switch (event.type) {
      case 'extraction-started':
        await this.runs.setPhase(tenant, id, 'extracting', undefined, tx);
        return undefined;
      case 'extraction-completed':
        await this.runs.setCounts(tenant, id, { extracted: event.extracted }, tx);
        // Delivery stages the mapped contacts as they come; the run waits for the last of them.
        await this.runs.setPhase(tenant, id, 'staging', undefined, tx);
        return undefined;
      case 'rows-rejected':
        await this.runs.addRejections(
          tenant,
          id,
          event.stage,
          event.rejections,
          tx,
          this.config.MAX_REJECTIONS_PER_RUN,
        );
        return undefined;
      case 'delivery-started': {
        await this.runs.setCounts(tenant, id, event.counts, tx);
        // To send: the eligible contacts that changed (a producer before incremental sync sends all of them).
        const { eligible, unchanged, delivered } = event.counts;
        const total = eligible - (unchanged ?? 0);
        await this.runs.setPhase(tenant, id, 'sending', { done: delivered, total }, tx);
        return undefined;
      }
      case 'delivery-progress':
        await this.runs.setCounts(tenant, id, event.counts, tx);
        await this.runs.setPhase(tenant, id, event.phase ?? 'sending', event.progress, tx);
        return undefined;
      case 'delivery-completed':
        await this.runs.setCounts(tenant, id, event.counts, tx);
        // A notice (MASS_REMOVAL_HELD) is the succeeded run's reason, with its message.
        return {
          status: 'succeeded',
          ...(event.notice ? { reason: event.notice.code, message: event.notice.message } : {}),
        } satisfies Outcome;
      case 'run-skipped':
        await this.runs.setCounts(tenant, id, event.counts, tx);
        return { status: 'skipped', reason: event.reason, message: event.message } satisfies Outcome;
      case 'run-failed':
        if (event.counts) await this.runs.setCounts(tenant, id, event.counts, tx);
        return { status: 'failed', reason: event.code, message: event.message } satisfies Outcome;
      case 'run-canceled':
        if (event.counts) await this.runs.setCounts(tenant, id, event.counts, tx);
        return { status: 'canceled', reason: 'CANCELED' } satisfies Outcome;
      default:
        return assertNever(event);
    }
  }

  /** Locks the run's export, then the run: the one lock order used everywhere, so transactions cannot deadlock. */
  private async lockRunWithExport(
    tenant: TenantId,
    runId: string,
    tx: Queryable,
  ): Promise<RunRecord | undefined> {
    const run = await this.runs.find(tenant, runId, tx);
    if (!run) return undefined;
    await this.exportsRepo.lock(tenant, run.exportId, tx);
    return this.runs.lock(tenant, runId, tx);
  }

  /**
   * Starts the oldest queued run of the export unless one is running (never two at once). A run that cannot
   * start (no connection, key needing attention, missing snapshot) fails with its reason and the next is tried.
   */
  private async startNextIfIdle(tenant: TenantId, exportId: string, tx: Queryable): Promise<void> {
    for (;;) {
      if (await this.runs.hasRunning(tenant, exportId, tx)) return;
      const next = await this.runs.oldestQueued(tenant, exportId, tx);
      if (!next) return;
      const spec = await this.buildSpec(tenant, next, tx);
      if ('failure' in spec) {
        await this.runs.finish(tenant, next.id, spec.failure, tx);
        runsFinished.inc({ status: 'failed' });
        this.logger.warn(
          { tenantId: tenant, runId: next.id, reason: spec.failure.reason },
          'run could not start',
        );
        continue;
      }
      await this.runs.markRunning(tenant, next.id, spec.run, tx);
      const value = { run: spec.run, requestedAt: new Date().toISOString() };
      await this.outbox.add(
        { topic: TOPICS.runRequested.name, key: next.id, value, correlationId: next.correlationId },
        tx,
      );
      runsStarted.inc();
      this.logger.info(
        { tenantId: tenant, runId: next.id, exportId, correlationId: next.correlationId },
        'run started',
      );
      return;
    }
  }

  private async buildSpec(
    tenant: TenantId,
    run: RunRecord,
    tx: Queryable,
  ): Promise<{ run: RunSpec } | { failure: Outcome }> {
    const fail = (reason: string, message: string) => ({
      failure: { status: 'failed' as const, reason, message },
    });
    const exp = await this.exportsRepo.find(tenant, run.exportId, tx);
    const connection = exp?.connectionId
      ? await this.connections.find(tenant, exp.connectionId, tx)
      : undefined;
    if (!exp || !connection) return fail('CONNECTION_MISSING', 'The export has no connection');
    if (connection.status === 'needs-attention') {
      return fail(
        'API_KEY_REJECTED',
        'Autopilot rejected the connection key; update the key of the connection',
      );
    }
    const segments = await this.segments.findMany(tenant, exp.segmentIds, tx);
    const missing = exp.segmentIds.find((id) => !segments.has(id));
    if (missing) return fail('SNAPSHOT_UNREADABLE', `Segment ${missing} has no snapshot yet`);
    const quota = await this.quotas.get(tenant, tx);
    const parsed = RunSpec.safeParse({
      runId: run.id,
      tenantId: tenant,
      exportId: exp.id,
      connectionId: connection.id,
      trigger: run.trigger,
      segments: exp.segmentIds.flatMap((id) => {
        const segment = segments.get(id);
        if (!segment) return [];
        return [
          {
            segmentId: id,
            segmentName: segment.name,
            listName: (exp.listNames[id] ?? segment.name).slice(0, 200),
            snapshot: segment.snapshot,
          },
        ];
      }),
      mapping: exp.mapping,
      limitPolicy: exp.limitPolicy,
      profileLimit: exp.profileLimit,
      quotaPerMonth: quota.profilesPerMonth,
      syncMode: exp.syncMode,
      massRemovalPercent: exp.massRemovalPercent,
      ...(run.options.dryRun ? { dryRun: true } : {}),
      ...(run.options.fullResync ? { fullResync: true } : {}),
      ...(run.options.confirmRemovals ? { confirmRemovals: true } : {}),
    });
    if (!parsed.success)
      return fail('INTERNAL_ERROR', `Run specification is invalid: ${parsed.error.issues[0].message}`);
    return { run: parsed.data };
  }
}

function isFinal(status: string): boolean {
  return status !== 'queued' && status !== 'running';
}
