import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, APP_LOGGER } from '../app-tokens';
import type { ControlPlaneConfig } from '../config';
import { retentionPurged } from '../metrics';
import { RetentionRepository } from './retention.repository';

/**
 * The scheduled purge of run history (RETENTION_DAYS): every RETENTION_PURGE_INTERVAL_MS, and once shortly
 * after the start. Every instance runs the timer; the advisory lock lets one of them purge per round.
 * A plain interval rather than @nestjs/schedule (not a dependency of the project): one job, one timer.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly stopping = new AbortController();

  constructor(
    private readonly repo: RetentionRepository,
    @Inject(APP_CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const first = setTimeout(() => this.tick(), Math.min(30_000, this.config.RETENTION_PURGE_INTERVAL_MS));
    first.unref();
    this.timer = setInterval(() => this.tick(), this.config.RETENTION_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    await this.running;
  }

  /** One purge round (skipped while the previous one is still going). */
  tick(): Promise<void> {
    if (this.stopping.signal.aborted) return Promise.resolve();
    this.running ??= this.purge().finally(() => (this.running = undefined));
    return this.running;
  }

  private async purge(): Promise<void> {
    const started = Date.now();
    try {
      const result = await this.repo.purge({
        retentionDays: this.config.RETENTION_DAYS,
        batchSize: this.config.RETENTION_PURGE_BATCH,
        signal: this.stopping.signal,
      });
      if (result.skipped) return void this.logger.debug('retention purge: another instance is purging');
      retentionPurged.inc({ table: 'runs' }, result.runs);
      retentionPurged.inc({ table: 'rejections' }, result.rejections);
      if (result.runs > 0)
        this.logger.info(
          { runs: result.runs, rejections: result.rejections, ms: Date.now() - started },
          'retention purge: old runs removed',
        );
    } catch (error) {
      this.logger.warn({ err: error }, 'retention purge failed; retried next round');
    }
  }
}
