import { AutopilotClient, isAutopilotFailure } from '@export/autopilot-client';
import { AppError, errorMessage } from '@export/errors';
import type { DeliveryCounts, RunFailureCode } from '@export/contracts';
import type { Logger } from 'pino';
import type { DeliveryMetrics } from '../metrics/delivery.metrics';
import { keyHash, KeyRejectedError, type KeyPacer } from '../pacing/key-pacer';
import type { RunEventBody, RunEventsPublisher } from '../runs/run-events.publisher';
import {
  LeaseLostError,
  type LeasedRun,
  type PendingContact,
  type QuotaChange,
  type RunsRepository,
  type TerminalState,
} from '../runs/runs.repository';
import { RateLimitedTooLongError, type AutopilotCaller, type PacedCall } from './autopilot-caller';
import { deliverChunk } from './chunk-delivery';
import type { Credentials, CredentialsClient } from './credentials.client';
import type { ListsService } from './lists.service';
import { RunLists } from './run-lists';

export type LaneStop = 'shutdown' | 'lease-lost' | 'canceled';

export interface LaneDeps {
  owner: string;
  repo: RunsRepository;
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

const PAGE = 1000;
const BULK = 100;

class RunFailure extends Error {
  constructor(
    readonly code: RunFailureCode,
    message: string,
  ) {
    super(message);
  }
}

class RunNoLongerConfirmed extends Error {}

/**
 * Delivers one leased run: decides it (limit, quota) if it is fresh, then sends its pending contacts from
 * the ledger in bulk calls, several in flight, each paced per key through Redis. Ends the run (succeeded,
 * failed, canceled) or, when stopped for a shutdown or a lost lease, leaves it to be resumed.
 */
export class RunLane {
  private readonly controller = new AbortController();
  private readonly log: Logger;
  private progressTimer?: NodeJS.Timeout;
  private progressBusy = false;
  private dirty = false;
  private started = performance.now();

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
    let credentials: Credentials | undefined;
    try {
      if (this.run.cancelRequested) return await this.finish('canceled', null);
      if (this.run.state === 'ready' && !(await this.decide())) return;
      this.started = performance.now();
      this.progressTimer = setInterval(() => void this.tick(), 1000);
      credentials = await this.credentials();
      const hash = keyHash(credentials.apiKey);
      const client = new AutopilotClient({
        baseUrl: this.deps.autopilot.baseUrl,
        apiKey: credentials.apiKey,
        timeoutMs: this.deps.autopilot.timeoutMs,
      });
      const call = this.deps.caller.forKey(hash, signal, this.log, credentials.keyVersion);
      const lists = new RunLists(this.deps.lists, client, call, hash, this.run.spec.segments);
      await lists.resolve();
      await this.deliverAll(client, call, lists);
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
    if (error instanceof RateLimitedTooLongError)
      return void (await this.finish('failed', { code: 'RATE_LIMITED_TOO_LONG', message: error.message }));
    if (isAutopilotFailure(error, 'forbidden')) {
      await this.finish('failed', {
        code: 'DESTINATION_FORBIDDEN',
        message: `Autopilot refused the key this action (403): ${error.message}`,
      });
      return;
    }
    if (isAutopilotFailure(error, 'not-found')) {
      await this.finish('failed', {
        code: 'DESTINATION_LIST_MISSING',
        message: `Autopilot answered 404 again after the run's lists were looked up again: ${error.message}`,
      });
      return;
    }
    if (isAutopilotFailure(error, 'unavailable')) {
      await this.finish('failed', {
        code: 'DESTINATION_UNAVAILABLE',
        message: `Autopilot stayed unavailable: ${error.message}`,
      });
      return;
    }
    // Database or broker trouble: leave the run leased until the lease expires, then anyone resumes it.
    this.log.error({ err: error }, 'delivery interrupted; the run resumes when its lease expires');
  }

  /** Returns true when the run is to be delivered. */
  private async decide(): Promise<boolean> {
    const decision = await this.deps.repo.decide(
      this.deps.owner,
      this.run,
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
      { eligible: decision.eligible, overLimit: decision.overLimit, overQuota: decision.overQuota },
      'delivery started',
    );
    return true;
  }

  private async credentials(): Promise<Credentials> {
    const { connectionId } = this.run.spec;
    for (let attempt = 1; ; attempt++) {
      try {
        const credentials = await this.deps.credentials.get(connectionId, this.run.tenantId, this.run.runId);
        if (credentials.status === 'deleted')
          throw new RunFailure('CONNECTION_MISSING', `Connection ${connectionId} was deleted`);
        if (
          credentials.status === 'needs-attention' ||
          (await this.deps.pacer.isDead(keyHash(credentials.apiKey), credentials.keyVersion))
        ) {
          throw new KeyRejectedError();
        }
        return credentials;
      } catch (error) {
        if (error instanceof AppError && error.kind === 'not-found')
          throw new RunFailure('CONNECTION_MISSING', error.message);
        if (error instanceof AppError && error.kind === 'conflict')
          throw new RunNoLongerConfirmed(error.message);
        if (error instanceof AppError && error.kind === 'upstream-unavailable') {
          const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
          this.log.warn({ err: errorMessage(error), delayMs: delay }, 'credentials unavailable; retrying');
          await new Promise((resolve) => setTimeout(resolve, delay));
          this.controller.signal.throwIfAborted();
          continue;
        }
        throw error;
      }
    }
  }

  private async deliverAll(
    client: AutopilotClient,
    call: PacedCall,
    lists: RunLists,
  ): Promise<void> {
    const { repo, metrics } = this.deps;
    const runId = this.run.runId;
    for (;;) {
      // The first failure stops the other workers after their call in hand.
      const failed = new AbortController();
      const signal = AbortSignal.any([this.controller.signal, failed.signal]);
      const feed = new PendingFeed(repo, runId);
      const ctx = {
        client,
        call,
        listIdOf: (segmentId: string) => lists.idOf(segmentId),
        refreshLists: () => lists.refreshOnce(),
        onSent: async (emails: string[]) => {
          metrics.delivered.inc(await repo.markSent(this.deps.owner, runId, emails));
          this.dirty = true;
        },
        onFailed: async (failures: { email: string; reason: string }[]) => {
          if (failures.length === 0) return;
          await repo.markFailed(this.deps.owner, runId, failures);
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
      if ((await repo.progress(this.deps.owner, runId)).pending === 0) return;
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
      const { pending: _pending, ...counts } = await this.deps.repo.progress(this.deps.owner, this.run.runId);
      await this.deps.events.publish(
        this.run,
        [{ type: 'delivery-progress', counts }],
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
          async (counts, quota) => {
            const events: RunEventBody[] = [...before];
            if (quota) events.push(this.quotaEvent(quota));
            events.push(this.finalEvent(state, failure, counts));
            await this.deps.events.publish(this.run, events, this.run.correlationId);
          },
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
  ): RunEventBody {
    if (state === 'succeeded') return { type: 'delivery-completed', counts };
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

/** Pending contacts in seq order, handed out in chunks of at most 100 to concurrent workers. */
class PendingFeed {
  private buffer: PendingContact[] = [];
  private cursor = -1;
  private exhausted = false;
  private loading?: Promise<void>;

  constructor(
    private readonly repo: RunsRepository,
    private readonly runId: string,
  ) {}

  async next(signal: AbortSignal): Promise<PendingContact[]> {
    while (this.buffer.length === 0 && !this.exhausted) {
      signal.throwIfAborted();
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      await this.loading;
    }
    signal.throwIfAborted();
    return this.buffer.splice(0, BULK);
  }

  private async load(): Promise<void> {
    const rows = await this.repo.pending(this.runId, this.cursor, PAGE);
    if (rows.length === 0) this.exhausted = true;
    else {
      this.cursor = rows[rows.length - 1].seq;
      this.buffer.push(...rows);
    }
  }
}
