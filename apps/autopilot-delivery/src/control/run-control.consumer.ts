import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { TOPICS, type RunControlV1 } from '@export/contracts';
import { KafkaConsumers, type ConsumedMessage } from '@export/kafka';
import { Readiness } from '@export/observability';
import type { Logger } from 'pino';
import { DELIVERY_CONFIG, DELIVERY_LOGGER } from '../app.tokens';
import type { DeliveryConfig } from '../config';
import { RunEventsPublisher } from '../runs/run-events.publisher';
import { RunConfirmationService } from '../runs/run-confirmation.service';
import { RunsRepository } from '../runs/runs.repository';

/**
 * Cancel orders. A run not delivering yet ends here; a delivering run is stopped by the instance that
 * holds it (it notices within a second), which gives back the unused quota and publishes run-canceled.
 */
@Injectable()
export class RunControlConsumer implements OnModuleInit {
  constructor(
    private readonly consumers: KafkaConsumers,
    private readonly runs: RunsRepository,
    private readonly events: RunEventsPublisher,
    private readonly readiness: Readiness,
    private readonly confirmation: RunConfirmationService,
    @Inject(DELIVERY_CONFIG) private readonly config: DeliveryConfig,
    @Inject(DELIVERY_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const consumer = this.consumers.register({
      groupId: `${this.config.KAFKA_GROUP_ID}-control`,
      topics: [TOPICS.runControl.name],
      handle: (message) => this.handle(message),
    });
    this.readiness.register('kafka-control', () => consumer.healthy);
  }

  async handle({ value, correlationId }: ConsumedMessage<RunControlV1>): Promise<void> {
    // Only the control plane cancels: an order for a run it has not canceled is dead-lettered (RUN_NOT_CONFIRMED).
    await this.confirmation.confirmCancel(value);
    const outcome = await this.runs.requestCancel(value.runId, value.tenantId, (counts) =>
      this.events.publish(value, [{ type: 'run-canceled', counts }], correlationId),
    );
    this.logger.info(
      { runId: value.runId, tenantId: value.tenantId, correlationId, outcome },
      'cancel received',
    );
  }
}
