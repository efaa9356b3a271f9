import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type RunControlV1 } from '@export/contracts';
import { KafkaController, type KafkaContext, type KafkaHandlerOptions } from '@export/kafka';
import type { Logger } from 'pino';
import { DELIVERY_LOGGER } from '../app.tokens';
import { RunEventsPublisher } from '../runs/run-events.publisher';
import { RunConfirmationService } from '../runs/run-confirmation.service';
import { RunsRepository } from '../runs/runs.repository';

/**
 * Cancel orders. A run not delivering yet ends here; a delivering run is stopped by the instance that
 * holds it (it notices within a second), which gives back the unused quota and publishes run-canceled.
 */
@KafkaController()
export class RunControlConsumer {
  constructor(
    private readonly runs: RunsRepository,
    private readonly events: RunEventsPublisher,
    private readonly confirmation: RunConfirmationService,
    @Inject(DELIVERY_LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(TOPICS.runControl.name, {
    group: (serviceGroup) => `${serviceGroup}-control`,
    readiness: 'kafka-control',
    partitionsConsumedConcurrently: 1,
  } satisfies KafkaHandlerOptions)
  async handle(@Payload() value: RunControlV1, @Ctx() { correlationId }: KafkaContext): Promise<void> {
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
