import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { DELIVERY_CONFIG, DELIVERY_LOGGER } from '../app.tokens';
import type { DeliveryConfig } from '../config';
import { DeliveryMetrics } from '../metrics/delivery.metrics';
import { BacklogRepository } from './backlog.repository';

/** Contacts per bulk call. */
const BULK = 100;

/**
 * Keeps the backlog gauges current: every DELIVERY_BACKLOG_REFRESH_MS one cheap query of the ledger (not on
 * scrape: a scrape never waits on the database). The figures are the whole ledger's, so they are the same on
 * every instance whatever the number of instances; an autoscaler reads them with max(). See
 * deploy/k8s/README.md for the scaling rule built on them.
 */
@Injectable()
export class BacklogService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private readonly log: Logger;

  constructor(
    private readonly repo: BacklogRepository,
    private readonly metrics: DeliveryMetrics,
    @Inject(DELIVERY_CONFIG) private readonly config: DeliveryConfig,
    @Inject(DELIVERY_LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'backlog' });
  }

  onApplicationBootstrap(): void {
    this.metrics.runSlots.set(this.config.DELIVERY_MAX_RUNS);
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.DELIVERY_BACKLOG_REFRESH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
  }

  /** Reads the ledger once and sets the gauges (a read still going is not doubled). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    try {
      const backlog = await this.repo.read();
      const { metrics } = this;
      for (const [state, n] of Object.entries(backlog.contacts)) metrics.backlogContacts.set({ run_state: state }, n);
      for (const [state, n] of Object.entries(backlog.runs)) metrics.backlogRuns.set({ run_state: state }, n);
      metrics.backlogConnections.set(backlog.connections);
      const rps = this.config.AUTOPILOT_RATE_LIMIT_RPS;
      metrics.backlogSeconds.set(rps > 0 ? Math.ceil(backlog.largestConnectionContacts / BULK) / rps : 0);
    } catch (error) {
      // The gauges keep their last figures; the next round tries again.
      this.log.warn({ err: error }, 'could not read the backlog');
    }
  }
}
