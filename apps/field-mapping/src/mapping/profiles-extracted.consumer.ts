import { TOPICS, type ProfilesExtractedV1 } from '@export/contracts';
import { KafkaContext, KafkaController, RunCancellations, type KafkaHandlerOptions } from '@export/kafka';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MappingMetrics } from './mapping.metrics';
import { MappingService } from './mapping.service';

/** Kafka edge of mapping: the transport parses each extracted message with its contract; this hands it on. */
@KafkaController()
export class ProfilesExtractedConsumer {
  constructor(
    private readonly mapping: MappingService,
    private readonly cancellations: RunCancellations,
    private readonly metrics: MappingMetrics,
  ) {}

  @EventPattern(TOPICS.profilesExtracted.name, {
    readiness: 'kafka-consumer:profiles-extracted',
    failRunAs: 'mapping',
  } satisfies KafkaHandlerOptions)
  async handle(@Payload() value: ProfilesExtractedV1, @Ctx() { correlationId }: KafkaContext): Promise<void> {
    // A canceled run's batches are dropped: the control plane ended the run, delivery would discard them.
    if (this.cancellations.isCanceled(value.run.runId)) {
      this.metrics.canceledDropped.inc();
      return;
    }
    return this.mapping.handle(value, correlationId);
  }
}
