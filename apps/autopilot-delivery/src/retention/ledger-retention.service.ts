import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { DELIVERY_CONFIG, DELIVERY_LOGGER } from '../app.tokens';
import type { DeliveryConfig } from '../config';
import { DeliveryMetrics } from '../metrics/delivery.metrics';
import { LedgerRetentionRepository } from './ledger-retention.repository';

/** Ended runs released per sweep. */
const RUNS_PER_SWEEP = 20;
/** A sweep or purge that deleted at least this many contacts vacuums the table. */
const VACUUM_AFTER = 1000;

/**
 * Two timers over the ledger (a plain interval rather than @nestjs/schedule, which the project does not
 * depend on): every RETENTION_SWEEP_MS the staged contacts of runs that ended are released (the export's
 * state seeded, the rest deleted in batches); every RETENTION_PURGE_INTERVAL_MS runs older than
 * RETENTION_DAYS are purged. Every instance runs both; advisory locks make each run's release and each
 * purge round happen on one instance at a time.
 */
@Injectable()
export class LedgerRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly timers: NodeJS.Timeout[] = [];
  private sweeping?: Promise<void>;
  private purging?: Promise<void>;
  private readonly stopping = new AbortController();
  private readonly log: Logger;

  constructor(
    private readonly repo: LedgerRetentionRepository,
    private readonly metrics: DeliveryMetrics,
    @Inject(DELIVERY_CONFIG) private readonly config: DeliveryConfig,
    @Inject(DELIVERY_LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'ledger-retention' });
  }

  onApplicationBootstrap(): void {
    const every = (ms: number, job: () => void) => {
      const timer = setInterval(job, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.RETENTION_SWEEP_MS, () => void this.sweep());
    every(this.config.RETENTION_PURGE_INTERVAL_MS, () => void this.purge());
    const first = setTimeout(() => void this.purge(), Math.min(30_000, this.config.RETENTION_PURGE_INTERVAL_MS));
    first.unref();
    this.timers.push(first);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([this.sweeping, this.purging]);
  }

  /** Releases the contacts of runs that ended (one round; a round still going is not doubled). */
  sweep(): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    this.sweeping ??= this.releaseEnded().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  purge(): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    this.purging ??= this.purgeOld().finally(() => (this.purging = undefined));
    return this.purging;
  }

  private async releaseEnded(): Promise<void> {
    try {
      let deleted = 0;
      for (const runId of await this.repo.endedWithContacts(RUNS_PER_SWEEP)) {
        if (this.stopping.signal.aborted) break;
        const released = await this.repo.releaseRun(runId, this.config.RETENTION_PURGE_BATCH);
        if (!released) continue;
        deleted += released.deleted;
        this.metrics.ledgerContactsDeleted.inc(released.deleted);
        this.log.debug({ runId, ...released }, 'staged contacts of an ended run released');
      }
      if (deleted >= VACUUM_AFTER) await this.repo.vacuumContacts();
    } catch (error) {
      this.log.warn({ err: error }, 'releasing staged contacts failed; retried next sweep');
    }
  }

  private async purgeOld(): Promise<void> {
    try {
      const result = await this.repo.purge(
        this.config.RETENTION_DAYS,
        this.config.RETENTION_PURGE_BATCH,
        this.stopping.signal,
      );
      if (result.skipped) return;
      this.metrics.ledgerContactsDeleted.inc(result.contacts);
      if (result.contacts >= VACUUM_AFTER) await this.repo.vacuumContacts();
      if (result.runs > 0) this.log.info(result, `ledger purge: runs older than ${this.config.RETENTION_DAYS} days removed`);
    } catch (error) {
      this.log.warn({ err: error }, 'ledger purge failed; retried next round');
    }
  }
}
