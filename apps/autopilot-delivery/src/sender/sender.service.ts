import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { DELIVERY_CONFIG, DELIVERY_LOGGER } from '../app.tokens';
import type { DeliveryConfig } from '../config';
import { ControlPlaneClient } from '../control-plane/control-plane.client';
import { PG_POOL } from '../database/database.module';
import { DeliveryMetrics } from '../metrics/delivery.metrics';
import { KeyPacer } from '../pacing/key-pacer';
import { RunEventsPublisher } from '../runs/run-events.publisher';
import { RunsRepository } from '../runs/runs.repository';
import { RemovalsRepository } from '../sync/removals.repository';
import { AutopilotCaller } from './autopilot-caller';
import { CredentialsClient } from './credentials.client';
import { ListsService } from './lists.service';
import { RunLane, type LaneDeps } from './run-lane';

/**
 * The sender loop, apart from the Kafka handlers (offsets commit as soon as batches are staged; rate-limit
 * waits never hold a consumer). It leases ready runs from the ledger, up to DELIVERY_MAX_RUNS at once, and
 * delivers them side by side: each key is paced on its own, so one tenant's big run does not hold back
 * another's small one, and runs sharing a key take turns at its slots.
 */
@Injectable()
export class SenderService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly lanes = new Map<string, { lane: RunLane; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;
  private readonly deps: LaneDeps;
  private readonly log: Logger;

  constructor(
    @Inject(DELIVERY_CONFIG) private readonly config: DeliveryConfig,
    @Inject(DELIVERY_LOGGER) logger: Logger,
    @Inject(PG_POOL) pool: Pool,
    private readonly repo: RunsRepository,
    events: RunEventsPublisher,
    pacer: KeyPacer,
    private readonly metrics: DeliveryMetrics,
    controlPlane: ControlPlaneClient,
  ) {
    this.log = logger.child({ component: 'sender', owner: this.owner });
    this.deps = {
      owner: this.owner,
      repo,
      removals: new RemovalsRepository(pool),
      events,
      pacer,
      metrics,
      credentials: new CredentialsClient(controlPlane, config.CREDENTIALS_CACHE_MS),
      caller: new AutopilotCaller(
        pacer,
        metrics,
        {
          maxAttempts: config.DELIVERY_MAX_ATTEMPTS,
          initialDelayMs: config.DELIVERY_RETRY_INITIAL_MS,
          maxDelayMs: config.DELIVERY_RETRY_MAX_MS,
          maxRetryAfterMs: config.AUTOPILOT_MAX_RETRY_AFTER_MS,
          maxRateLimitedMs: config.DELIVERY_MAX_RATE_LIMITED_MS,
        },
        this.log,
      ),
      lists: new ListsService(pool),
      autopilot: { baseUrl: config.AUTOPILOT_BASE_URL, timeoutMs: config.AUTOPILOT_TIMEOUT_MS },
      callsPerRun: config.DELIVERY_CALLS_PER_RUN,
      logger: this.log,
    };
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  /** Stop leasing, let each run finish its call in hand, release the leases (before consumers stop). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    for (const { lane } of this.lanes.values()) lane.stop('shutdown');
    await this.loop;
    await Promise.allSettled([...this.lanes.values()].map((l) => l.done));
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    let lastRenewal = Date.now();
    while (!signal.aborted) {
      try {
        const free = this.config.DELIVERY_MAX_RUNS - this.lanes.size;
        if (free > 0) {
          for (const run of await this.repo.lease(this.owner, free, this.config.DELIVERY_LEASE_MS)) {
            // A run whose lease ran out while this instance stalled comes back to it: its lane is still at work
            // (same owner, so the fence cannot tell two lanes apart). Leasing it again only renewed the lease.
            if (!this.lanes.has(run.runId)) this.start(new RunLane(run, this.deps));
          }
        }
        // Renewed every quarter of the lease: a holder is taken over only after missing three renewals.
        if (Date.now() - lastRenewal >= this.config.DELIVERY_LEASE_MS / 4) {
          lastRenewal = Date.now();
          const held = await this.repo.renew(
            this.owner,
            [...this.lanes.keys()],
            this.config.DELIVERY_LEASE_MS,
          );
          for (const [runId, { lane }] of this.lanes) if (!held.has(runId)) lane.stop('lease-lost');
        }
      } catch (error) {
        this.log.error({ err: error }, 'sender loop failed; retrying');
      }
      await sleep(this.config.DELIVERY_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  private start(lane: RunLane): void {
    this.metrics.runsInFlight.inc();
    const done = lane
      .execute()
      .catch((error) => this.log.error({ err: error, runId: lane.runId }, 'run lane failed'))
      .finally(() => {
        this.lanes.delete(lane.runId);
        this.metrics.runsInFlight.dec();
      });
    this.lanes.set(lane.runId, { lane, done });
  }
}
