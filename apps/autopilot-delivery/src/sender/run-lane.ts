import { setTimeout as sleep } from 'node:timers/promises';
import { AutopilotClient } from '@export/autopilot-client';
import type { DeliveryCounts, DeliveryPhase, RunFailureCode } from '@export/contracts';
import type { Logger } from 'pino';
import type { DeliveryMetrics } from '../metrics/delivery.metrics';
import { keyHash, KeyRejectedError, type KeyPacer } from '../pacing/key-pacer';
import type { RunEventBody, RunEventsPublisher } from '../runs/run-events.publisher';
import {
  EARLY_CHUNK,
  LeaseLostError,
  type LeasedRun,
  type QuotaChange,
  type RunsRepository,
  type TerminalState,
} from '../runs/runs.repository';
import type { AutopilotCaller, PacedCall } from './autopilot-caller';
import { deliverChunk, type SentContact } from './chunk-delivery';
import type { RemovalsRepository } from '../sync/removals.repository';
import { massRemovalMessage } from '../sync/destination-diff';
import type { Credentials, CredentialsClient } from './credentials.client';
import type { ListsService } from './lists.service';
import { LaneProgress } from './lane-progress';
import { PendingFeed } from './pending-feed';
import { SendingPasses } from './sending-passes';
import { removeLeavers } from './removal-phase';
import { RunLists } from './run-lists';
import { destinationFailure, fetchCredentials, RunFailure, RunNoLongerConfirmed } from './lane-failures';

export type LaneStop = 'shutdown' | 'lease-lost' | 'canceled';

export interface LaneDeps {
  owner: string;
  repo: RunsRepository;
  removals: RemovalsRepository;
  events: RunEventsPublisher;
  credentials: CredentialsClient;
  pacer: KeyPacer;
  caller: AutopilotCaller;
  lists: ListsService;
  metrics: DeliveryMetrics;
  autopilot: { baseUrl: string; timeoutMs: number };
  callsPerRun: number;
  logger: Logger;
}

/** How often a lane that sent all it could while its run stages looks for newly staged contacts. */
const STAGING_POLL_MS = 100;

/**
 * Delivers one leased run: decides it if it is fresh (the diff against the export's destination state, limit,
 * quota, removals), then sends its added and updated contacts from the ledger in bulk calls, several in flight,
 * each paced per key through Redis, then (mirror) removes its leavers from their lists. A truncate run of one
 * segment is leased while it still stages: it classifies and sends the contacts certain to be within its limit as
 * they are staged, and is decided (the rest) once its last batch is in. A dry run ends right after the decision,
 * having called nothing. Ends the run (succeeded, failed, canceled) or, when stopped for a shutdown or a lost
 * lease, leaves it to be resumed.
 */
export class RunLane {
  private readonly controller = new AbortController();
  private readonly log: Logger;
  private progressTimer?: NodeJS.Timeout;
  private progressBusy = false;
  private dirty = false;
  private readonly counts = new LaneProgress();
  private started = performance.now();
  private phase: DeliveryPhase = 'sending';

  constructor(
    private readonly run: LeasedRun,
    private readonly deps: LaneDeps,
  ) {
    this.log = deps.logger.child({
      runId: run.runId,
      tenantId: run.tenantId,
      correlationId: run.correlationId,
    });
  }

  get runId(): string {
    return this.run.runId;
  }

  stop(reason: LaneStop): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  async execute(): Promise<void> {
    const { signal } = this.controller;
    const { spec } = this.run;
    let credentials: Credentials | undefined;
    try {
      if (this.run.cancelRequested) return await this.finish('canceled', null);
      credentials = await fetchCredentials(this.run, this.deps, this.controller.signal, this.log);
      const hash = keyHash(credentials.apiKey);
      const client = new AutopilotClient({
        baseUrl: this.deps.autopilot.baseUrl,
        apiKey: credentials.apiKey,
        timeoutMs: this.deps.autopilot.timeoutMs,
      });
      const call = this.deps.caller.forKey(hash, signal, this.log, credentials.keyVersion);
      const lists = new RunLists(this.deps.lists, client, call, hash, spec.segments);
      // Leased while staging, ready and stepwise, or resumed after an instance began so: send in steps what is
      // certain, then decide the rest.
      const early =
        this.run.state === 'staging' ||
        (this.run.state === 'ready' && (this.run.startedAt !== null || this.run.stepwise));
      if (early && !(await this.sendStepwise(client, call, lists))) return;
      // The diff sees only the lists the ledger knows (no call): a dry run sees exactly what the next run sees.
      if ((early || this.run.state === 'ready') && !(await this.decide(await lists.known()))) return;
      if (spec.dryRun) return await this.finish('succeeded', null);
      this.startProgress();
      await lists.resolve();
      await this.deliverAll(client, call, lists);
      if (spec.syncMode === 'mirror') {
        this.phase = 'removing';
        this.counts.invalidate();
        this.dirty = true;
        const refused = await removeLeavers({
          owner: this.deps.owner,
          spec,
          repo: this.deps.removals,
          client,
          call,
          workers: this.deps.callsPerRun,
          signal,
          onProgress: () => (this.dirty = true),
        });
        if (refused > 0) this.log.warn({ refused }, 'Autopilot refused some removals; the next run tries them again');
      }
      await this.finish('succeeded', null);
    } catch (error) {
      await this.onError(error, credentials);
    } finally {
      clearInterval(this.progressTimer);
    }
  }

  private async onError(error: unknown, credentials: Credentials | undefined): Promise<void> {
    const reason = this.controller.signal.aborted ? (this.controller.signal.reason as LaneStop) : undefined;
    if (error instanceof LeaseLostError) {
      // Another instance holds the run now (this one stalled past its lease): it sends the rest. A call that
      // was in flight here may be repeated there (at-least-once); nothing was counted twice.
      this.stop('lease-lost');
      return void this.log.warn('lease lost (a write found another holder); stopping, the holder goes on');
    }
    if (error instanceof KeyRejectedError) {
      const { connectionId } = this.run.spec;
      if (credentials) this.deps.credentials.forget(connectionId, this.run.tenantId);
      this.log.warn({ connectionId }, 'Autopilot rejected the API key; run fails');
      await this.finish(
        'failed',
        {
          code: 'API_KEY_REJECTED',
          message: 'Autopilot rejected the API key of the connection (401); check or replace the key',
        },
        [{ type: 'connection-key-rejected', connectionId }],
      );
      return;
    }
    if (error instanceof RunNoLongerConfirmed) {
      // The control plane has ended the run (its cancel order may still be on its way): stop, send nothing.
      this.log.warn({ reason: error.message }, 'run no longer confirmed by the control plane; stopping');
      return void (await this.finish('canceled', null));
    }
    if (error instanceof RunFailure)
      return void (await this.finish('failed', { code: error.code, message: error.message }));
    if (reason === 'canceled') return void (await this.finish('canceled', null));
    if (reason === 'shutdown') {
      await this.deps.repo.release(this.deps.owner, this.run.runId);
      this.log.info('delivery paused for shutdown; lease released');
      return;
    }
    if (reason === 'lease-lost') return void this.log.warn('lease lost; another instance continues the run');
    const destination = destinationFailure(error);
    if (destination) return void (await this.finish('failed', destination));
    // Database or broker trouble: leave the run leased until the lease expires, then anyone resumes it.
    this.log.error({ err: error }, 'delivery interrupted; the run resumes when its lease expires');
  }

  /**
   * A stepwise run (see STEPWISE: while it stages, or ready before anything was classified): classify a step of
   * contacts certain to be within its limit, send them while the next step is classified, look again, until all
   * that is staged is classified and the last batch is in (then the decision classifies the rest, if any). When the
   * tenant's quota cannot take a step's contacts, the run only waits for its last batch: the decision leaves out
   * the ones past the quota in the stable order. Returns false when the run is no longer this lane's to go on with.
   */
  private async sendStepwise(client: AutopilotClient, call: PacedCall, lists: RunLists): Promise<boolean> {
    const { signal } = this.controller;
    const known = await lists.known();
    const sending = new SendingPasses((stop) => this.deliverAll(client, call, lists, stop));
    let resolved = false;
    try {
      for (;;) {
        signal.throwIfAborted();
        sending.throwIfFailed();
        const step = await this.deps.repo.classifyEarly(this.deps.owner, this.run, known, EARLY_CHUNK, (started, quota) =>
          this.announceEarly(started, quota),
        );
        if (step.kind === 'closed') return false;
        if (step.kind === 'quota-short') {
          this.log.info('the quota cannot take more contacts before the last batch is staged; waiting for it');
          await sending.finished();
          return await this.waitForLastBatch();
        }
        if (step.classified > 0) {
          this.counts.invalidate();
          this.dirty = true;
          if (!resolved) {
            this.log.info({ classified: step.classified, state: step.state }, 'delivery started stepwise');
            this.startProgress();
            await lists.resolve();
            resolved = true;
          }
          sending.request();
          continue;
        }
        if (step.state === 'ready') {
          await sending.finished();
          return true;
        }
        await sleep(STAGING_POLL_MS, undefined, { signal });
      }
    } finally {
      // Leaving early (closed, a failure): the pass in hand stops after its calls in hand, before the lane goes on.
      await sending.stop();
    }
  }

  private async waitForLastBatch(): Promise<boolean> {
    for (;;) {
      const state = await this.deps.repo.stateOf(this.run.runId);
      if (state === 'ready') return true;
      if (state !== 'staging') return false;
      await sleep(STAGING_POLL_MS, undefined, { signal: this.controller.signal });
    }
  }

  private async announceEarly(started: DeliveryCounts | undefined, quota: QuotaChange | null): Promise<void> {
    const events: RunEventBody[] = [];
    if (quota) events.push(this.quotaEvent(quota));
    if (started) events.push({ type: 'delivery-started', counts: started });
    if (events.length > 0) await this.deps.events.publish(this.run, events, this.run.correlationId);
  }

  private startProgress(): void {
    if (this.progressTimer) return;
    this.started = performance.now();
    this.progressTimer = setInterval(() => void this.tick(), 1000);
  }

  /** Returns true when the run is to be delivered (or, a dry run, ended as decided). */
  private async decide(lists: Record<string, string>): Promise<boolean> {
    this.counts.invalidate();
    const decision = await this.deps.repo.decide(
      this.deps.owner,
      this.run,
      lists,
      async (decision, counts, quota) => {
        const events: RunEventBody[] = [];
        if (decision.action === 'skip') {
          events.push({ type: 'run-skipped', reason: decision.reason, message: decision.message, counts });
        } else {
          if (quota) events.push(this.quotaEvent(quota));
          events.push({ type: 'delivery-started', counts });
        }
        await this.deps.events.publish(this.run, events, this.run.correlationId);
      },
    );
    if (!decision) return false;
    if (decision.action === 'skip') {
      this.log.info({ reason: decision.reason }, decision.message);
      return false;
    }
    this.log.info(
      {
        eligible: decision.eligible,
        overLimit: decision.overLimit,
        overQuota: decision.overQuota,
        removals: decision.removals?.removals,
        removalsHeld: decision.removals?.held,
        dryRun: this.run.spec.dryRun === true,
      },
      'delivery started',
    );
    return true;
  }

  /** Sends the run's pending contacts until none is left; `stop` ends it early (after the calls in hand). */
  private async deliverAll(
    client: AutopilotClient,
    call: PacedCall,
    lists: RunLists,
    stop?: AbortSignal,
  ): Promise<void> {
    const { repo, metrics } = this.deps;
    const runId = this.run.runId;
    if (await repo.refreshStatistics(runId)) this.log.debug('statistics of the ledger refreshed for this run');
    for (;;) {
      // The first failure stops the other workers after their call in hand.
      const failed = new AbortController();
      const signal = AbortSignal.any([this.controller.signal, failed.signal, ...(stop ? [stop] : [])]);
      const feed = new PendingFeed(repo, runId);
      const ctx = {
        client,
        call,
        listIdOf: (segmentId: string) => lists.idOf(segmentId),
        refreshLists: () => lists.refreshOnce(),
        onSent: async (sent: SentContact[]) => {
          const contactIds: Record<string, string> = {};
          for (const { email, contactId } of sent) if (contactId) contactIds[email] = contactId;
          const { tenantId, connectionId, exportId } = this.run.spec;
          const emails = sent.map((c) => c.email);
          const destination = { tenantId, connectionId, exportId, contactIds, lists: lists.all() };
          const { sent: marked, updated } = await repo.markSent(this.deps.owner, runId, emails, destination);
          metrics.delivered.inc(marked);
          this.counts.sent(marked, updated);
          this.dirty = true;
        },
        onFailed: async (failures: { email: string; reason: string }[]) => {
          if (failures.length === 0) return;
          const marked = await repo.markFailed(this.deps.owner, runId, failures);
          this.counts.failed(marked);
          metrics.failedContacts.inc(failures.length);
          this.log.warn({ failed: failures.length, reason: failures[0].reason }, 'contacts failed');
          this.dirty = true;
        },
      };
      let cause: unknown;
      await Promise.allSettled(
        Array.from({ length: this.deps.callsPerRun }, async () => {
          try {
            for (let chunk = await feed.next(signal); chunk.length > 0; chunk = await feed.next(signal)) {
              await deliverChunk(ctx, chunk);
            }
          } catch (error) {
            // Only the first failure is the cause; the others are the stop it provoked.
            if (!signal.aborted) {
              cause = error;
              failed.abort();
            }
            throw error;
          }
        }),
      );
      if (cause !== undefined) throw cause;
      if (this.controller.signal.aborted) throw this.controller.signal.reason;
      stop?.throwIfAborted();
      if (!(await repo.hasPending(this.deps.owner, runId))) return;
    }
  }

  /** Every second: notice a cancel, publish progress when something changed. */
  private async tick(): Promise<void> {
    if (this.progressBusy || this.controller.signal.aborted) return;
    this.progressBusy = true;
    try {
      if (await this.deps.repo.isCancelRequested(this.run.runId)) {
        this.log.info('cancel requested; stopping delivery');
        this.stop('canceled');
        return;
      }
      if (!this.dirty) return;
      this.dirty = false;
      const { pending, ...counts } = await this.counts.counts(() =>
        this.deps.repo.progress(this.deps.owner, this.run.runId),
      );
      const progress =
        this.phase === 'removing'
          ? await this.deps.removals.progress(this.run.runId)
          : { done: counts.delivered + counts.failed, total: counts.delivered + counts.failed + pending };
      await this.deps.events.publish(
        this.run,
        [{ type: 'delivery-progress', counts, phase: this.phase, progress }],
        this.run.correlationId,
      );
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.log.warn('lease lost (taken over after a stall); stopping, the holder goes on');
        this.stop('lease-lost');
        return;
      }
      this.log.warn({ err: error }, 'progress update failed');
    } finally {
      this.progressBusy = false;
    }
  }

  private async finish(
    state: TerminalState,
    failure: { code: RunFailureCode; message: string } | null,
    before: RunEventBody[] = [],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const counts = await this.deps.repo.finish(
          this.deps.owner,
          this.run.runId,
          state,
          failure,
          async (counts, quota, removalsHeld) => {
            const events: RunEventBody[] = [...before];
            if (quota) events.push(this.quotaEvent(quota));
            events.push(this.finalEvent(state, failure, counts, removalsHeld));
            await this.deps.events.publish(this.run, events, this.run.correlationId);
          },
          { planned: this.run.spec.dryRun === true },
        );
        if (counts) {
          this.deps.metrics.runDuration.observe(
            { outcome: state },
            (performance.now() - this.started) / 1000,
          );
          this.log.info({ state, counts, code: failure?.code }, `run ${state}`);
        }
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        this.log.warn({ err: error, attempt }, 'could not end the run; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  private finalEvent(
    state: TerminalState,
    failure: { code: RunFailureCode; message: string } | null,
    counts: DeliveryCounts,
    removalsHeld: number,
  ): RunEventBody {
    if (state === 'succeeded') {
      const { spec } = this.run;
      return {
        type: 'delivery-completed',
        counts,
        ...(spec.dryRun ? { dryRun: true } : {}),
        ...(removalsHeld > 0
          ? { notice: { code: 'MASS_REMOVAL_HELD', message: massRemovalMessage(removalsHeld, spec) } }
          : {}),
      };
    }
    if (state === 'canceled') return { type: 'run-canceled', counts };
    return {
      type: 'run-failed',
      stage: 'delivery',
      code: failure?.code ?? 'INTERNAL_ERROR',
      message: failure?.message ?? 'failed',
      counts,
    };
  }

  private quotaEvent(quota: QuotaChange): RunEventBody {
    this.deps.metrics.quotaUsed.set({ tenant_id: this.run.tenantId, month: quota.month }, quota.used);
    return { type: 'quota-usage', month: quota.month, used: quota.used, revision: quota.revision };
  }
}
