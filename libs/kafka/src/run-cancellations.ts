import { randomUUID } from 'node:crypto';
import { TOPICS } from '@export/contracts';
import type { Logger } from 'pino';
import type { FactoryProvider } from '@nestjs/common';
import { KafkaConsumers } from './kafka.module';

/** How long a cancel is remembered: longer than any run's extraction or mapping. */
const REMEMBER_MS = 6 * 3600 * 1000;

/**
 * The cancel orders of the control plane (run-control), heard by every instance of a service: each instance
 * reads the topic in a consumer group of its own (`<group>.cancels.<instance>`), from the end, so a broadcast
 * reaches all of them (one shared group would hand each order to one instance only); orders of the last
 * hours are kept, so an instance (re)started after an order still knows it. Extraction and mapping
 * ask it between batches and stop working on a canceled run within a batch.
 */
export class RunCancellations {
  private readonly canceled = new Map<string, number>();

  constructor(consumers: KafkaConsumers, groupPrefix: string, private readonly logger: Logger) {
    consumers.register({
      groupId: `${groupPrefix}.cancels.${randomUUID().slice(0, 8)}`,
      topics: [TOPICS.runControl.name],
      // From the beginning, so an instance started after the order still hears it; old orders are skipped.
      fromBeginning: true,
      handle: async ({ value }) => {
        const until = Date.parse(value.at) + REMEMBER_MS;
        if (!(until > Date.now())) return;
        this.canceled.set(value.runId, until);
        this.logger.info({ runId: value.runId, tenantId: value.tenantId }, 'cancel order received');
        this.forgetOld();
      },
    });
  }

  /** The Nest provider of a service's RunCancellations (its consumer groups named after `groupPrefix`). */
  static provider(groupPrefix: string, logger: Logger): FactoryProvider<RunCancellations> {
    return {
      provide: RunCancellations,
      inject: [KafkaConsumers],
      useFactory: (consumers: KafkaConsumers) => new RunCancellations(consumers, groupPrefix, logger),
    };
  }

  isCanceled(runId: string): boolean {
    const until = this.canceled.get(runId);
    return until !== undefined && until > Date.now();
  }

  private forgetOld(): void {
    const now = Date.now();
    for (const [runId, until] of this.canceled) if (until <= now) this.canceled.delete(runId);
  }
}
