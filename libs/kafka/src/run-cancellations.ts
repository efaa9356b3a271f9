import { randomUUID } from 'node:crypto';
import { TOPICS, type RunControlV1 } from '@export/contracts';
import { Inject, Injectable, Module } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { KAFKA_LOGGER } from './kafka.module';
import { KafkaController, type KafkaHandlerOptions } from './transport/kafka-controller';

/** How long a cancel is remembered: longer than any run's extraction or mapping. */
const REMEMBER_MS = 6 * 3600 * 1000;

/**
 * The cancel orders of the control plane (run-control), heard by every instance of a service (see
 * RunCancellationsListener); orders of the last hours are kept, so an instance (re)started after an order
 * still knows it. Extraction and mapping ask it between batches and stop working on a canceled run within
 * a batch.
 */
@Injectable()
export class RunCancellations {
  private readonly canceled = new Map<string, number>();

  constructor(@Inject(KAFKA_LOGGER) private readonly logger: Logger) {}

  remember(order: RunControlV1): void {
    const until = Date.parse(order.at) + REMEMBER_MS;
    if (!(until > Date.now())) return;
    this.canceled.set(order.runId, until);
    this.logger.info({ runId: order.runId, tenantId: order.tenantId }, 'cancel order received');
    this.forgetOld();
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

/**
 * Each instance reads run-control in a consumer group of its own (`<group>.cancels.<instance>`), so a
 * broadcast reaches all of them (one shared group would hand each order to one instance only), from the
 * beginning, so an instance started after the order still hears it (old orders are skipped).
 */
@KafkaController()
export class RunCancellationsListener {
  constructor(private readonly cancellations: RunCancellations) {}

  @EventPattern(TOPICS.runControl.name, {
    group: (serviceGroup) => `${serviceGroup}.cancels.${randomUUID().slice(0, 8)}`,
    fromBeginning: true,
    partitionsConsumedConcurrently: 1,
  } satisfies KafkaHandlerOptions)
  async onCancel(@Payload() order: RunControlV1): Promise<void> {
    this.cancellations.remember(order);
  }
}

/** Import it where work must stop on a canceled run: provides RunCancellations, fed by its own listener. */
@Module({ controllers: [RunCancellationsListener], providers: [RunCancellations], exports: [RunCancellations] })
export class RunCancellationsModule {}
